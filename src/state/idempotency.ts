/**
 * Idempotency-Key support: the first result of an invocation is stored (state directory, SQLite)
 * and returned for a repeat with the same key within the TTL, so a workflow engine's retry never
 * acts on the upstream twice. A repeat that arrives while the first is still running waits for it.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from './sqlite.js';

export interface StoredResult {
  status: number;
  body: unknown;
}

/** Where first results live: the state directory (one replica) or Redis (shared by every replica). */
export interface Idempotency {
  once(task: string, key: string, work: () => Promise<StoredResult>): Promise<StoredResult & { replayed: boolean }>;
  close(): void | Promise<void>;
}

export class IdempotencyStore implements Idempotency {
  private readonly db: Database.Database;
  private readonly inFlight = new Map<string, Promise<StoredResult>>();
  private readonly getStmt: Database.Statement<[string, string, number], { result: string }>;
  private readonly putStmt: Database.Statement<[string, string, string, number]>;
  private lastPurge = 0;

  constructor(
    file: string,
    readonly ttlMs: number,
  ) {
    this.db = openSqlite(file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS idempotency (
      task TEXT NOT NULL, key TEXT NOT NULL, result TEXT NOT NULL, expires_at INTEGER NOT NULL,
      PRIMARY KEY (task, key)
    ) WITHOUT ROWID`);
    this.getStmt = this.db.prepare('SELECT result FROM idempotency WHERE task = ? AND key = ? AND expires_at > ?');
    this.putStmt = this.db.prepare(
      'INSERT OR REPLACE INTO idempotency (task, key, result, expires_at) VALUES (?, ?, ?, ?)',
    );
  }

  /**
   * Runs `work` once per (task, key) within the TTL; repeats get the stored result and
   * `replayed: true`. A refusal before any work (a full limit, a suspended task) throws and is not
   * stored, so the retry can go through.
   */
  async once(
    task: string,
    key: string,
    work: () => Promise<StoredResult>,
  ): Promise<StoredResult & { replayed: boolean }> {
    const id = `${task}\u0000${key}`;
    const stored = this.getStmt.get(task, key, Date.now());
    if (stored) return { ...(JSON.parse(stored.result) as StoredResult), replayed: true };
    const running = this.inFlight.get(id);
    if (running) return { ...(await running), replayed: true };
    const promise = work();
    this.inFlight.set(id, promise);
    try {
      const result = await promise;
      this.putStmt.run(task, key, JSON.stringify(result), Date.now() + this.ttlMs);
      this.purge();
      return { ...result, replayed: false };
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Drops expired entries, at most once a minute. */
  private purge(): void {
    const now = Date.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    this.db.prepare('DELETE FROM idempotency WHERE expires_at <= ?').run(now);
  }

  close(): void {
    this.db.close();
  }
}
