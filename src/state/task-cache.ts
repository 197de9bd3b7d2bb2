/**
 * The task cache port (DESIGN §2, §4): per task and record kind, the hash of each record as last loaded (so
 * unchanged records are not loaded again), which run last saw each record (so deletion marking compares
 * against everything a run fetched, the records the cache skipped included), how many complete runs in a
 * row each missing record was absent from (deletion.confirmRuns), and the incremental cursors. The adapter
 * is SQLite in the state directory (sqlite/sqlite-task-cache.ts); the engine only knows this interface.
 */
import type { Cursors, RecordKind } from '../model/records.js';

export interface TaskCacheMeta {
  mappingHash?: string;
  clearedAt?: string;
  clearRequested: boolean;
  /** A clear that also resets the cursors was requested (`clear-cache --cursor`). */
  cursorResetRequested: boolean;
  /** Incremental cursors per kind, as of the last successful load. */
  cursors: Cursors;
  /** The last run whose loads this cache reflects (a run on another replica invalidates it). */
  lastRunId?: string;
}

export interface TaskCache {
  meta(task: string): TaskCacheMeta;
  setMappingHash(task: string, hash: string): void;
  /**
   * Asks for a clear; the engine applies it when the task's next run starts, never mid-run. `cursors`: the
   * clear also resets the incremental cursors (the next run reads every kind in full); a plain clear never does.
   */
  requestClear(task: string, options?: { cursors?: boolean }): void;
  /** Empties the task's entries. Cursors and misses are kept: a cache clear resets neither. */
  clear(task: string, at: Date): void;
  setLastRun(task: string, runId: string): void;
  /** Replaces the task's cursors (the engine merges what a run handed over with what it kept). */
  setCursors(task: string, cursors: Cursors): void;
  /** Whether the task has no entries at all (new, or just cleared): lookups can be skipped. */
  isEmpty(task: string): boolean;
  /** Hashes of these keys as last loaded (absent: never loaded, or cleared). */
  lookup(task: string, kind: RecordKind, keys: readonly string[]): Map<string, string>;
  /** Records loaded cards (after the target confirmed them) and unchanged ones as seen by this run. */
  commit(
    task: string,
    kind: RecordKind,
    runId: string,
    loaded: ReadonlyArray<{ key: string; hash: string }>,
    unchanged: readonly string[],
  ): void;
  /** The keys among these that the run did not see (deletion candidates). */
  unseenAmong(task: string, kind: RecordKind, keys: readonly string[], runId: string): string[];
  countMisses(task: string, kind: RecordKind, keys: readonly string[]): Map<string, number>;
  /** The misses in a row of these keys as recorded, without counting one more (a plan reads, never writes). */
  peekMisses(task: string, kind: RecordKind, keys: readonly string[]): Map<string, number>;
  resetMisses(task: string, kind: RecordKind, runId: string): void;
  dropMisses(task: string, kind: RecordKind, keys: readonly string[]): void;
  /** Drops entries (cards marked deleted must load again if their record comes back). */
  forget(task: string, kind: RecordKind, keys: readonly string[]): void;
  entries(task: string): number;
  /** Removes everything of a task that no longer exists. */
  drop(task: string): void;
  close(): void;
}
