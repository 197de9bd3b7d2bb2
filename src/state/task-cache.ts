/**
 * The task cache (DESIGN §2): per task and record kind, the hash of each record as last loaded, so
 * unchanged records are not loaded again, plus which run last saw each record, so deletion marking
 * compares against everything a run fetched, including records the cache skipped.
 *
 * It lives in SQLite in the state directory: memory stays flat however many records a task has, and
 * an entry is written only after the target confirmed the card, so a crash can cost a reload but
 * never a lost card.
 */
import type Database from 'better-sqlite3';
import type { RecordKind, Watermark } from '../connectors/types.js';
import { openSqlite } from './sqlite.js';

export interface TaskCacheMeta {
  mappingHash?: string;
  clearedAt?: string;
  clearRequested: boolean;
  watermark?: Watermark;
  /** The last run whose loads this cache reflects (see Controller: a run on another replica invalidates it). */
  lastRunId?: string;
}

export class TaskCache {
  private readonly db: Database.Database;
  private readonly getHash: Database.Statement<[string, string, string], { hash: string }>;
  private readonly put: Database.Statement<[string, string, string, string, string]>;
  private readonly see: Database.Statement<[string, string, string, string]>;
  private readonly seen: Database.Statement<[string, string, string], { seen_run: string }>;
  private readonly forgetOne: Database.Statement<[string, string, string]>;

  constructor(readonly file: string) {
    this.db = openSqlite(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS task_cache (
        task TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
        hash TEXT NOT NULL, seen_run TEXT NOT NULL,
        PRIMARY KEY (task, kind, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS task_meta (
        task TEXT PRIMARY KEY, mapping_hash TEXT, cleared_at TEXT,
        clear_requested INTEGER NOT NULL DEFAULT 0, watermark TEXT
      );`);
    // Added after the first release: state directories created before it lack the column.
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(task_meta)').all();
    if (!columns.some((c) => c.name === 'last_run')) this.db.exec('ALTER TABLE task_meta ADD COLUMN last_run TEXT');
    this.getHash = this.db.prepare('SELECT hash FROM task_cache WHERE task = ? AND kind = ? AND key = ?');
    this.put = this.db.prepare(
      `INSERT INTO task_cache (task, kind, key, hash, seen_run) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (task, kind, key) DO UPDATE SET hash = excluded.hash, seen_run = excluded.seen_run`,
    );
    this.see = this.db.prepare('UPDATE task_cache SET seen_run = ? WHERE task = ? AND kind = ? AND key = ?');
    this.seen = this.db.prepare('SELECT seen_run FROM task_cache WHERE task = ? AND kind = ? AND key = ?');
    this.forgetOne = this.db.prepare('DELETE FROM task_cache WHERE task = ? AND kind = ? AND key = ?');
  }

  meta(task: string): TaskCacheMeta {
    const row = this.db
      .prepare<
        [string],
        {
          mapping_hash: string | null;
          cleared_at: string | null;
          clear_requested: number;
          watermark: string | null;
          last_run: string | null;
        }
      >('SELECT mapping_hash, cleared_at, clear_requested, watermark, last_run FROM task_meta WHERE task = ?')
      .get(task);
    return {
      mappingHash: row?.mapping_hash ?? undefined,
      clearedAt: row?.cleared_at ?? undefined,
      clearRequested: row?.clear_requested === 1,
      watermark: row?.watermark ? (JSON.parse(row.watermark) as Watermark) : undefined,
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

  /** Asks for a clear; the engine applies it when the task's next run starts, never mid-run. */
  requestClear(task: string): void {
    this.upsertMeta(task, 'clear_requested', 1);
  }

  /** Empties the task's cache. The watermark is kept: a cache clear does not reset incremental state. */
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

  setWatermark(task: string, watermark: Watermark | undefined): void {
    this.upsertMeta(task, 'watermark', watermark ? JSON.stringify(watermark) : null);
  }

  /** Hashes of these keys as last loaded (absent: never loaded, or cleared). */
  lookup(task: string, kind: RecordKind, keys: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    // One read transaction per batch: WAL makes each statement outside one take its own snapshot.
    this.db.transaction(() => {
      for (const key of keys) {
        const row = this.getHash.get(task, kind, key);
        if (row) found.set(key, row.hash);
      }
    })();
    return found;
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
      for (const { key, hash } of loaded) this.put.run(task, kind, key, hash, runId);
      for (const key of unchanged) this.see.run(runId, task, kind, key);
    })();
  }

  seenBy(task: string, kind: RecordKind, key: string, runId: string): boolean {
    return this.seen.get(task, kind, key)?.seen_run === runId;
  }

  /** The keys among these that the run did not see (deletion candidates), checked in one transaction. */
  unseenAmong(task: string, kind: RecordKind, keys: readonly string[], runId: string): string[] {
    return this.db.transaction(() => keys.filter((key) => this.seen.get(task, kind, key)?.seen_run !== runId))();
  }

  /** Drops entries (cards marked deleted must load again if their record comes back). */
  forget(task: string, kind: RecordKind, keys: readonly string[]): void {
    this.db.transaction(() => {
      for (const key of keys) this.forgetOne.run(task, kind, key);
    })();
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
  }

  close(): void {
    this.db.close();
  }
}
