/**
 * The task cache of a plan (ADR 0010): reads the real cache, keeps every write in memory, so that the run a
 * plan simulates compares against what the last runs loaded (unchanged records stay unchanged, misses count
 * toward deletion.confirmRuns) while the cache, its misses and the cursors stay as they were.
 */
import type { Cursors, RecordKind } from '../model/records.js';
import type { TaskCache, TaskCacheMeta } from '../state/task-cache.js';

export class PlanCache implements TaskCache {
  private cleared = false;
  private readonly metaChanges: Partial<TaskCacheMeta> = {};
  /** Per kind: hashes the simulated run loaded, and every key it saw (loaded or unchanged). */
  private readonly loaded = new Map<RecordKind, Map<string, string>>();
  private readonly seen = new Map<RecordKind, Set<string>>();
  private readonly forgotten = new Map<RecordKind, Set<string>>();
  private readonly droppedMisses = new Map<RecordKind, Set<string>>();

  constructor(private readonly real: TaskCache) {}

  private of<V>(map: Map<RecordKind, V>, kind: RecordKind, make: () => V): V {
    let v = map.get(kind);
    if (!v) {
      v = make();
      map.set(kind, v);
    }
    return v;
  }

  meta(task: string): TaskCacheMeta {
    return { ...this.real.meta(task), ...this.metaChanges };
  }
  setMappingHash(_task: string, hash: string): void {
    this.metaChanges.mappingHash = hash;
  }
  requestClear(): void {
    this.metaChanges.clearRequested = true;
  }
  clear(_task: string, at: Date): void {
    this.cleared = true;
    this.loaded.clear();
    Object.assign(this.metaChanges, { clearedAt: at.toISOString(), clearRequested: false });
  }
  setLastRun(_task: string, runId: string): void {
    this.metaChanges.lastRunId = runId;
  }
  setCursors(_task: string, cursors: Cursors): void {
    this.metaChanges.cursors = cursors;
  }
  isEmpty(task: string): boolean {
    return (this.cleared || this.real.isEmpty(task)) && [...this.loaded.values()].every((m) => m.size === 0);
  }

  lookup(task: string, kind: RecordKind, keys: readonly string[]): Map<string, string> {
    const out = this.cleared ? new Map<string, string>() : this.real.lookup(task, kind, keys);
    for (const k of this.forgotten.get(kind) ?? []) out.delete(k);
    const mine = this.loaded.get(kind);
    if (mine) for (const k of keys) if (mine.has(k)) out.set(k, mine.get(k)!);
    return out;
  }

  commit(
    _task: string,
    kind: RecordKind,
    _runId: string,
    loaded: ReadonlyArray<{ key: string; hash: string }>,
    unchanged: readonly string[],
  ): void {
    const hashes = this.of(this.loaded, kind, () => new Map<string, string>());
    const seen = this.of(this.seen, kind, () => new Set<string>());
    for (const l of loaded) {
      hashes.set(l.key, l.hash);
      seen.add(l.key);
      this.forgotten.get(kind)?.delete(l.key);
    }
    for (const k of unchanged) seen.add(k);
  }

  /** The simulated run's id is new: what it did not see is every key it did not commit. */
  unseenAmong(_task: string, kind: RecordKind, keys: readonly string[]): string[] {
    const seen = this.seen.get(kind);
    return seen ? keys.filter((k) => !seen.has(k)) : [...keys];
  }

  countMisses(task: string, kind: RecordKind, keys: readonly string[]): Map<string, number> {
    const recorded = this.real.peekMisses(task, kind, keys);
    const dropped = this.droppedMisses.get(kind);
    return new Map(keys.map((k) => [k, (dropped?.has(k) ? 0 : (recorded.get(k) ?? 0)) + 1]));
  }

  peekMisses(task: string, kind: RecordKind, keys: readonly string[]): Map<string, number> {
    return this.real.peekMisses(task, kind, keys);
  }

  /** Seen records are never counted as missing here (unseenAmong leaves them out): nothing to reset. */
  resetMisses(): void {}

  dropMisses(_task: string, kind: RecordKind, keys: readonly string[]): void {
    const dropped = this.of(this.droppedMisses, kind, () => new Set<string>());
    for (const k of keys) dropped.add(k);
  }

  forget(_task: string, kind: RecordKind, keys: readonly string[]): void {
    const gone = this.of(this.forgotten, kind, () => new Set<string>());
    for (const k of keys) {
      gone.add(k);
      this.loaded.get(kind)?.delete(k);
    }
  }

  entries(task: string): number {
    return this.real.entries(task);
  }
  /** The real cache belongs to whoever opened it. */
  drop(): void {}
  close(): void {}
}
