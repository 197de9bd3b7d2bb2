/**
 * The load side of a run: mapped cards wait in a batch per kind, are compared with the task cache, and the
 * changed ones go to the target. One batch may be in the target while the next pages are extracted and
 * mapped, so that a slow target and the source work at the same time. Cache entries of a batch are written
 * only when the target confirmed it, so a crash costs at most a reload, never a missing card; a refusal
 * surfaces at the next flush or at the end. Records the source reports deleted are marked in batches too.
 */

import { RunFailure } from '../model/errors.js';
import type { RecordKind } from '../model/records.js';
import type { TaskCache } from '../state/task-cache.js';
import type { Target } from '../targets/types.js';
import type { KindPlan } from './kind-plans.js';
import type { MappedRecord } from './mapper.js';
import type { RunRecord } from './run-record.js';

/** A mapped record waiting for its batch to be compared with the cache and loaded. */
export type PendingCard = Pick<MappedRecord, 'hash' | 'card' | 'json'> & { key: string };

export interface LoadPipelineOptions {
  target: Target;
  cache: TaskCache;
  taskKey: string;
  runId: string;
  record: RunRecord;
  batchSize: number;
}

export class LoadPipeline {
  private readonly pending = new Map<RecordKind, PendingCard[]>();
  private readonly deletes = new Map<RecordKind, Set<string>>();
  /** Keys the target refused: never marked deleted by this run although the cache did not see them. */
  private readonly refused = new Map<RecordKind, Set<string>>();
  private readonly cacheWasEmpty: boolean;
  private writing: Promise<void> | undefined;
  private writeFailure: Error | undefined;
  private readonly unmarkedDeletes = new Map<RecordKind, number>();
  refusals = 0;

  constructor(private readonly o: LoadPipelineOptions) {
    // A new or just-cleared cache knows no record: its lookups would all come back empty.
    this.cacheWasEmpty = o.cache.isEmpty(o.taskKey);
  }

  refusedKeys(kind: RecordKind): ReadonlySet<string> | undefined {
    return this.refused.get(kind);
  }

  async upsert(plan: KindPlan, card: PendingCard): Promise<void> {
    this.deletes.get(plan.kind)?.delete(card.key); // deleted, then back within the same run: it stays
    const batch = getOrCreate(this.pending, plan.kind, () => []);
    batch.push(card);
    if (batch.length >= this.o.batchSize) await this.flush(plan);
  }

  async delete(plan: KindPlan, key: string): Promise<void> {
    const batch = this.pending.get(plan.kind);
    const waiting = batch?.findIndex((p) => p.key === key) ?? -1;
    if (batch && waiting >= 0) batch.splice(waiting, 1); // upserted, then deleted within one batch
    const keys = getOrCreate(this.deletes, plan.kind, () => new Set<string>());
    keys.add(key);
    if (keys.size >= this.o.batchSize) await this.flushDeletes(plan);
  }

  /** Sends what waits for this kind (upserts, then deletes) and waits until the target has it all. */
  async flush(plan: KindPlan): Promise<void> {
    await this.flushUpserts(plan);
    await this.flushDeletes(plan);
  }

  async settle(): Promise<void> {
    await this.writing;
    this.writing = undefined;
    if (this.writeFailure) throw this.writeFailure;
  }

  /** Waits for a batch still in the target, without raising its failure (the run is ending anyway). */
  async drain(): Promise<void> {
    await this.writing;
  }

  /** Deletes the source reported that could not be marked, for the load info. */
  unmarked(): ReadonlyMap<RecordKind, number> {
    return this.unmarkedDeletes;
  }

  private async flushUpserts(plan: KindPlan): Promise<void> {
    const batch = this.pending.get(plan.kind);
    if (!batch || batch.length === 0) return;
    const { cache, taskKey, runId, record } = this.o;
    this.pending.set(plan.kind, []);
    record.loadStarted();
    const keys = batch.map((p) => p.key);
    const known = this.cacheWasEmpty ? new Map<string, string>() : cache.lookup(taskKey, plan.kind, keys);
    const changed = batch.filter((p) => known.get(p.key) !== p.hash);
    const unchanged = batch.filter((p) => known.get(p.key) === p.hash).map((p) => p.key);
    record.load.unchanged += unchanged.length;
    if (unchanged.length > 0) cache.commit(taskKey, plan.kind, runId, [], unchanged);
    await this.settle();
    if (changed.length > 0) {
      this.writing = this.write(plan, changed).catch((e: unknown) => {
        this.writeFailure = e as Error;
      });
    }
    record.progress();
  }

  private async write(plan: KindPlan, changed: PendingCard[]): Promise<void> {
    const { target, cache, taskKey, runId, record } = this.o;
    const m = plan.mapping;
    let result: Awaited<ReturnType<Target['upsert']>>;
    try {
      result = await target.upsert(
        m.template,
        m.folder,
        m.uniqueAttribute,
        changed.map((p) => ({ key: p.key, attributes: p.card, json: p.json })),
        plan.upsertOptions,
      );
    } catch (e) {
      throw new RunFailure(
        `${target.name} target refused a batch of ${changed.length} cards: ${(e as Error).message}`,
        'LoadFailed',
      );
    }
    record.load.created += result.created;
    record.load.updated += result.updated;
    record.load.restored += result.restored ?? 0;
    record.load.failed += result.failed.length;
    this.refusals += result.failed.length;
    const failedKeys = new Set(result.failed.map((f) => f.key));
    for (const f of result.failed) record.issues.add(`${m.uniqueAttribute}=${f.key}: ${f.error}`);
    if (failedKeys.size > 0) {
      const keep = getOrCreate(this.refused, plan.kind, () => new Set<string>());
      for (const k of failedKeys) keep.add(k);
    }
    const loaded = changed.filter((p) => !failedKeys.has(p.key)).map((p) => ({ key: p.key, hash: p.hash }));
    cache.commit(taskKey, plan.kind, runId, loaded, []);
    record.progress();
  }

  /** Marks at once what the source reported deleted: the source confirmed it, no confirmRuns wait. */
  private async flushDeletes(plan: KindPlan): Promise<void> {
    const keys = this.deletes.get(plan.kind);
    if (!keys || keys.size === 0) return;
    this.deletes.set(plan.kind, new Set());
    const onDeleted = plan.block.onDeleted;
    if (!onDeleted) {
      this.unmarkedDeletes.set(plan.kind, (this.unmarkedDeletes.get(plan.kind) ?? 0) + keys.size);
      return;
    }
    await this.settle(); // an upsert of the same key before the delete lands first
    this.o.record.loadStarted();
    const list = [...keys];
    const m = plan.mapping;
    // Forgotten first (see deletions.ts): a record that comes back loads again and is restored.
    this.o.cache.forget(this.o.taskKey, plan.kind, list);
    this.o.cache.dropMisses(this.o.taskKey, plan.kind, list);
    try {
      this.o.record.load.deleted += await this.o.target.markDeleted(m.template, m.uniqueAttribute, list, onDeleted);
    } catch (e) {
      throw new RunFailure(
        `${this.o.target.name} target could not mark ${list.length} cards deleted: ${(e as Error).message}`,
        'LoadFailed',
      );
    }
    this.o.record.progress();
  }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}
