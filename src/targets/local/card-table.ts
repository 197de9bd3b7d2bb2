/**
 * The SQLite table behind the local target and the one write that matters for speed, the batch upsert.
 * Shared by the target (reads, small writes) and the card writer thread (batch upserts), which open the
 * same file on connections of their own.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../../state/sqlite.js';

export function openCardTable(file: string): Database.Database {
  const db = openSqlite(file);
  db.exec(`CREATE TABLE IF NOT EXISTS cards (
    template TEXT NOT NULL,
    key TEXT NOT NULL,
    folder TEXT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (template, key)
  ) WITHOUT ROWID`);
  return db;
}

/** One card of a batch: its unique key and its attributes as JSON. */
export type SerializedCard = readonly [key: string, json: string];

export interface BatchUpsert {
  template: string;
  folder: string | null;
  cards: readonly SerializedCard[];
}

/**
 * Writes batches in one transaction each: after a crash a batch is either all there or not at all, and the
 * primary key (template, key) makes a duplicate card impossible.
 */
export class CardUpserter {
  private readonly insert: Database.Statement<[string, string, string | null, string, string, string]>;
  private readonly update: Database.Statement<[string, string, string, string]>;
  private readonly run: (batch: BatchUpsert) => { created: number; updated: number };

  constructor(db: Database.Database) {
    // json_patch merges (RFC 7396): attributes not written are kept, a null removes one (on a new card,
    // a null attribute is simply not stored). Insert first and update only on conflict: one statement for
    // a new card, and no separate query for which cards exist.
    this.insert = db.prepare(
      `INSERT INTO cards (template, key, folder, data, created_at, updated_at)
         VALUES (?, ?, ?, json_patch('{}', ?), ?, ?) ON CONFLICT (template, key) DO NOTHING`,
    );
    this.update = db.prepare(
      'UPDATE cards SET data = json_patch(data, ?), updated_at = ? WHERE template = ? AND key = ?',
    );
    this.run = db.transaction((batch: BatchUpsert) => {
      const now = new Date().toISOString();
      let created = 0;
      let updated = 0;
      for (const [key, json] of batch.cards) {
        if (this.insert.run(batch.template, key, batch.folder, json, now, now).changes === 1) created++;
        else {
          this.update.run(json, now, batch.template, key);
          updated++;
        }
      }
      return { created, updated };
    });
  }

  upsert(batch: BatchUpsert): { created: number; updated: number } {
    return this.run(batch);
  }
}
