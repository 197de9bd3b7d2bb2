/**
 * Opens a SQLite file the way every embedded store here uses it: WAL, so a reader (the CLI, a test)
 * never blocks the controller's writes; synchronous=NORMAL, durable at each checkpoint and safe
 * against a killed process; a busy timeout for the moments two processes meet.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export function openSqlite(file: string): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -4000');
  return db;
}
