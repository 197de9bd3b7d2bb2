/**
 * The task cache (the TaskCache port of ../task-cache.ts) in SQLite: per task and record kind, the hash of each record as last loaded, so
 * unchanged records are not loaded again, plus which run last saw each record, so deletion marking
 * compares against everything a run fetched, including records the cache skipped.
 *
 * It lives in SQLite in the state directory: memory stays flat however many records a task has, and
 * an entry is written only after the target confirmed the card, so a crash can cost a reload but
 * never a lost card.
 */
import type Database from 'better-sqlite3';
import type { Cursors, RecordKind } from '../../model/records.js';
import { openSqlite } from '../sqlite.js';
import type { TaskCache, TaskCacheMeta } from '../task-cache.js';

export class SqliteTaskCache implements TaskCache {
  private readonly db: Database.Database;
  // Batches go to SQLite as one JSON array and are unpacked there (json_each): one statement per batch
  // instead of one per key, which halves the cost of a large load.
  private readonly lookupMany: Database.Statement<[string, string, string], [string, string]>;
  private readonly putMany: Database.Statement<[string, string, string, string]>;
  private readonly seeMany: Database.Statement<[string, string, string, string]>;
  private readonly unseenMany: Database.Statement<[string, string, string, string], string>;
  private readonly forgetMany: Database.Statement<[string, string, string]>;
  private readonly anyEntry: Database.Statement<[string], number>;

  constructor(readonly file: string) {
    this.db = openSqlite(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS task_cache (
        task TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
        hash TEXT NOT NULL, seen_run TEXT NOT NULL,
        PRIMARY KEY (task, kind, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS task_misses (
        task TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, misses INTEGER NOT NULL,
        PRIMARY KEY (task, kind, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS task_meta (
        task TEXT PRIMARY KEY, mapping_hash TEXT, cleared_at TEXT,
        clear_requested INTEGER NOT NULL DEFAULT 0, watermark TEXT
      );`);
    // Added after the first release: state directories created before it lack the column.
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(task_meta)').all();
    if (!columns.some((c) => c.name === 'last_run')) this.db.exec('ALTER TABLE task_meta ADD COLUMN last_run TEXT');
    // Cursors replaced the single watermark (engine v2); the old column stays unread.
    if (!columns.some((c) => c.name === 'cursors')) this.db.exec('ALTER TABLE task_meta ADD COLUMN cursors TEXT');
    this.lookupMany = this.db
      .prepare<[string, string, string], [string, string]>(
        'SELECT key, hash FROM task_cache WHERE task = ? AND kind = ? AND key IN (SELECT value FROM json_each(?))',
      )
      .raw();
    this.putMany = this.db.prepare(
      `INSERT INTO task_cache (task, kind, key, hash, seen_run)
         SELECT ?, ?, j.value ->> 0, j.value ->> 1, ? FROM json_each(?) AS j WHERE true
       ON CONFLICT (task, kind, key) DO UPDATE SET hash = excluded.hash, seen_run = excluded.seen_run`,
    );
    this.seeMany = this.db.prepare(
      'UPDATE task_cache SET seen_run = ? WHERE task = ? AND kind = ? AND key IN (SELECT value FROM json_each(?))',
    );
    this.unseenMany = this.db
      .prepare<[string, string, string, string], string>(
        `SELECT j.value FROM json_each(?) AS j WHERE NOT EXISTS (SELECT 1 FROM task_cache AS c
           WHERE c.task = ? AND c.kind = ? AND c.key = j.value AND c.seen_run = ?)`,
      )
      .pluck();
    this.forgetMany = this.db.prepare(
      'DELETE FROM task_cache WHERE task = ? AND kind = ? AND key IN (SELECT value FROM json_each(?))',
    );
    this.anyEntry = this.db.prepare<[string], number>('SELECT 1 FROM task_cache WHERE task = ? LIMIT 1').pluck();
  }

  meta(task: string): TaskCacheMeta {
    const row = this.db
      .prepare<
        [string],
        {
          mapping_hash: string | null;
          cleared_at: string | null;
          clear_requested: number;
          cursors: string | null;
          last_run: string | null;
        }
      >('SELECT mapping_hash, cleared_at, clear_requested, cursors, last_run FROM task_meta WHERE task = ?')
      .get(task);
    return {
      mappingHash: row?.mapping_hash ?? undefined,
      clearedAt: row?.cleared_at ?? undefined,
      clearRequested: (row?.clear_requested ?? 0) >= 1,
      cursorResetRequested: row?.clear_requested === 2,
      cursors: row?.cursors ? (JSON.parse(row.cursors) as Cursors) : {},
      lastRunId: row?.last_run ?? undefined,
    };
  }

  private upsertMeta(task: string, column: string, value: string | number | null): void {
    this.db
      .prepare(
        `INSERT INTO task_meta (task, ${column}) VALUES (?, ?) ON CONFLICT (task) DO UPDATE SET ${column} = excluded.${column}`,
      )
      .run(task, value);
  }

  setMappingHash(task: string, hash: string): void {
    this.upsertMeta(task, 'mapping_hash', hash);
  }

  /** Asks for a clear; the engine applies it when the task's next run starts, never mid-run. 2: cursors too. */
  requestClear(task: string, options: { cursors?: boolean } = {}): void {
    // A cursor reset already asked for is not downgraded by a plain clear before the next run.
    const current = this.meta(task).cursorResetRequested ? 2 : 0;
    this.upsertMeta(task, 'clear_requested', Math.max(current, options.cursors ? 2 : 1));
  }

  /** Empties the task's cache. The cursors are kept: a cache clear does not reset incremental state. */
  clear(task: string, at: Date): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM task_cache WHERE task = ?').run(task);
      this.upsertMeta(task, 'cleared_at', at.toISOString());
      this.upsertMeta(task, 'clear_requested', 0);
    })();
  }

  setLastRun(task: string, runId: string): void {
    this.upsertMeta(task, 'last_run', runId);
  }

  /** Replaces the task's cursors (the engine merges what a run handed over with what it kept). */
  setCursors(task: string, cursors: Cursors): void {
    this.upsertMeta(task, 'cursors', Object.keys(cursors).length > 0 ? JSON.stringify(cursors) : null);
  }

  /** Whether the task has no entries at all (new, or just cleared): lookups can be skipped. */
  isEmpty(task: string): boolean {
    return this.anyEntry.get(task) === undefined;
  }

  /** Hashes of these keys as last loaded (absent: never loaded, or cleared). */
  lookup(task: string, kind: RecordKind, keys: readonly string[]): Map<string, string> {
    return new Map(this.lookupMany.all(task, kind, JSON.stringify(keys)));
  }

  /** Records loaded cards (after the target confirmed them) and unchanged ones as seen by this run. */
  commit(
    task: string,
    kind: RecordKind,
    runId: string,
    loaded: ReadonlyArray<{ key: string; hash: string }>,
    unchanged: readonly string[],
  ): void {
    this.db.transaction(() => {
      if (loaded.length > 0) this.putMany.run(task, kind, runId, JSON.stringify(loaded.map((l) => [l.key, l.hash])));
      if (unchanged.length > 0) this.seeMany.run(runId, task, kind, JSON.stringify(unchanged));
    })();
  }

  /** The keys among these that the run did not see (deletion candidates). */
  unseenAmong(task: string, kind: RecordKind, keys: readonly string[], runId: string): string[] {
    return this.unseenMany.all(JSON.stringify(keys), task, kind, runId);
  }

  /** Adds one miss to each of these keys (absent from a complete run); answers each key's misses in a row. */
  countMisses(task: string, kind: RecordKind, keys: readonly string[]): Map<string, number> {
    const counts = new Map<string, number>();
    if (keys.length === 0) return counts;
    this.db.transaction(() => {
      const rows = this.db
        .prepare<[string, string, string], [string, number]>(
          `INSERT INTO task_misses (task, kind, key, misses) SELECT ?, ?, value, 1 FROM json_each(?) WHERE true
             ON CONFLICT (task, kind, key) DO UPDATE SET misses = misses + 1 RETURNING key, misses`,
        )
        .raw()
        .all(task, kind, JSON.stringify(keys));
      for (const [key, misses] of rows) counts.set(key, misses);
    })();
    return counts;
  }

  /** The misses in a row of these keys as recorded, without counting one more. */
  peekMisses(task: string, kind: RecordKind, keys: readonly string[]): Map<string, number> {
    if (keys.length === 0) return new Map();
    const rows = this.db
      .prepare<[string, string, string], [string, number]>(
        'SELECT key, misses FROM task_misses WHERE task = ? AND kind = ? AND key IN (SELECT value FROM json_each(?))',
      )
      .raw()
      .all(task, kind, JSON.stringify(keys));
    return new Map(rows);
  }

  /** Forgets the misses of records this run saw: a record must be missing from runs in a row. */
  resetMisses(task: string, kind: RecordKind, runId: string): void {
    // Correlated, so the cost follows the (few) missing records, not the task's (many) cached ones.
    this.db
      .prepare(
        `DELETE FROM task_misses WHERE task = ? AND kind = ? AND EXISTS (SELECT 1 FROM task_cache AS c
           WHERE c.task = task_misses.task AND c.kind = task_misses.kind AND c.key = task_misses.key AND c.seen_run = ?)`,
      )
      .run(task, kind, runId);
  }

  /** Forgets the misses of these keys (they were marked deleted, or the target refused them). */
  dropMisses(task: string, kind: RecordKind, keys: readonly string[]): void {
    this.db
      .prepare('DELETE FROM task_misses WHERE task = ? AND kind = ? AND key IN (SELECT value FROM json_each(?))')
      .run(task, kind, JSON.stringify(keys));
  }

  /** Drops entries (cards marked deleted must load again if their record comes back). */
  forget(task: string, kind: RecordKind, keys: readonly string[]): void {
    this.forgetMany.run(task, kind, JSON.stringify(keys));
  }

  entries(task: string): number {
    return (
      this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM task_cache WHERE task = ?').get(task)?.n ?? 0
    );
  }

  /** Removes everything of a task that no longer exists. */
  drop(task: string): void {
    this.db.prepare('DELETE FROM task_cache WHERE task = ?').run(task);
    this.db.prepare('DELETE FROM task_meta WHERE task = ?').run(task);
    this.db.prepare('DELETE FROM task_misses WHERE task = ?').run(task);
  }

  close(): void {
    this.db.close();
  }
}
