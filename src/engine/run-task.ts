/**
 * One run of a scheduled task (DESIGN §2): extract → map → cache diff → load → deletion marking →
 * run record. Records stream through in batches; nothing holds the whole extract.
 *
 * Safety rules this file enforces:
 * - deletion marking happens only after a complete, successful extract of a full task, and never
 *   beyond `deletion.maxFraction` of the task's cards;
 * - a cache entry is written only after the target confirmed the card, so a crash at any point
 *   costs at most a reload, never a missing card; the target's unique key rules out duplicates;
 * - the watermark advances only after the load succeeded; a cache clear leaves it alone.
 */
import { join } from 'node:path';
import { connectorType } from '../connectors/registry.js';
import { type Cursors, ExtractError, type ExtractOutcome, type RecordKind } from '../connectors/types.js';
import type { Logger } from '../log/logger.js';
import { parseDuration } from '../model/duration.js';
import type { Connector, Task, TaskMapping, TaskRunSummary } from '../model/resources.js';
import { keyOf, namespaceOf } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';
import type { TaskCache } from '../state/task-cache.js';
import type { Target } from '../targets/types.js';
import { ArtifactWriter, pruneArtifacts } from './artifacts.js';
import { type CompiledMapping, compileMapping, type MappedRecord, mappingHash } from './mapper.js';

export interface EngineDeps {
  target: Target;
  cache: TaskCache;
  secrets: SecretResolver;
  log: Logger;
  /** Folder that keeps the extracted JSON of the last runs, per task. */
  artifactsRoot: string;
  keepArtifacts?: number;
  batchSize?: number;
}

export type RunTrigger = NonNullable<TaskRunSummary['trigger']>;

export interface RunRequest {
  task: Task;
  connector: Connector;
  runId: string;
  trigger: RunTrigger;
  plannedTime: Date;
  signal: AbortSignal;
  /** Called as counters move (throttled), and once at the end. */
  onProgress?: (run: TaskRunSummary) => void;
  now?: () => Date;
}

const KIND_BLOCK: Record<RecordKind, 'identity' | 'access' | 'generic'> = {
  identity: 'identity',
  access: 'access',
  generic: 'generic',
};

/** A mapped record waiting for its batch to be compared with the cache and loaded. */
type PendingCard = Pick<MappedRecord, 'hash' | 'card' | 'json'> & { key: string };

const MAX_LISTED_ISSUES = 20;
const PROGRESS_EVERY_MS = 250;

/** Reasons a run ends early, told apart by the abort reason. */
export class RunStoppedError extends Error {}
export class DeletionGuardError extends Error {}
class LoadError extends Error {}

/** The most recent configured cache-clear time (UTC HH:MM) at or before `now`. */
export function lastClearTime(clearAt: readonly string[], now: Date): Date | undefined {
  let latest: Date | undefined;
  for (const hhmm of clearAt) {
    const [h, m] = hhmm.split(':').map(Number);
    const t = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m));
    if (t > now) t.setUTCDate(t.getUTCDate() - 1);
    if (!latest || t > latest) latest = t;
  }
  return latest;
}

class IssueList {
  private readonly items: string[] = [];
  private more = 0;
  add(issue: string): void {
    if (this.items.length < MAX_LISTED_ISSUES) this.items.push(issue);
    else this.more++;
  }
  get count(): number {
    return this.items.length + this.more;
  }
  toString(): string {
    return this.items.join('; ') + (this.more > 0 ? `; and ${this.more} more` : '');
  }
}

export async function runTask(deps: EngineDeps, req: RunRequest): Promise<TaskRunSummary> {
  const now = req.now ?? (() => new Date());
  const { task, connector } = req;
  const taskKey = keyOf(task);
  const log = deps.log.child({ task: taskKey, run: req.runId });
  const batchSize = deps.batchSize ?? 500;
  const run: TaskRunSummary = {
    id: req.runId,
    trigger: req.trigger,
    plannedTime: req.plannedTime.toISOString(),
    startTime: now().toISOString(),
    extract: { status: 'Running', records: 0, apiCalls: 0 },
    load: { status: 'Pending', created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0 },
  };
  const extract = run.extract!;
  const load = run.load!;
  let lastProgress = 0;
  const progress = (force = false) => {
    const t = Date.now();
    if (!req.onProgress || (!force && t - lastProgress < PROGRESS_EVERY_MS)) return;
    lastProgress = t;
    req.onProgress(structuredClone(run));
  };

  const timeoutMs = parseDuration(task.spec.timeout ?? '2h');
  const signal = AbortSignal.any([req.signal, AbortSignal.timeout(timeoutMs)]);
  const issues = new IssueList();
  const artifacts = new ArtifactWriter(join(deps.artifactsRoot, namespaceOf(task), task.metadata.name, req.runId));
  const type = connectorType(connector.spec.type);
  const subqueries = subqueriesOf(task);
  const stamps = { taskId: taskKey, connectorType: connector.spec.type };
  const mappings = new Map<RecordKind, CompiledMapping>();
  for (const kind of Object.keys(KIND_BLOCK) as RecordKind[]) {
    const block = task.spec.mappings?.[KIND_BLOCK[kind]] as TaskMapping | undefined;
    if (block) mappings.set(kind, compileMapping(block, subqueries, stamps));
  }
  // Keys a run must never mark deleted although the cache did not record them as seen.
  const protectedKeys = new Map<RecordKind, Set<string>>();
  const pending = new Map<RecordKind, PendingCard[]>();
  let outcome: ExtractOutcome | undefined;
  const incremental = task.spec.fetch === 'incremental';
  const cursors: Cursors = incremental ? deps.cache.meta(taskKey).cursors : {};
  let targetRefusals = 0;

  prepareCache(deps.cache, task, taskKey, now(), log);
  // A new or just-cleared cache knows no record: its lookups would all come back empty.
  const cacheWasEmpty = deps.cache.isEmpty(taskKey);
  // Recorded before any work: a run cut off by a crash from here on is found and marked interrupted.
  progress(true);

  // One batch may be in the target while the next pages are extracted and mapped, so that a slow target
  // (a remote API, or the disk) and the source work at the same time. Cache entries of a batch are
  // written only when the target confirmed it; a refusal surfaces at the next flush or at the end.
  let writing: Promise<void> | undefined;
  let writeFailure: Error | undefined;
  const settleWrites = async (): Promise<void> => {
    await writing;
    writing = undefined;
    if (writeFailure) throw writeFailure;
  };

  const write = async (kind: RecordKind, m: CompiledMapping, changed: PendingCard[]): Promise<void> => {
    let result: Awaited<ReturnType<Target['upsert']>>;
    try {
      result = await deps.target.upsert(
        m.template,
        m.folder,
        m.uniqueAttribute,
        changed.map((p) => ({ key: p.key, attributes: p.card, json: p.json })),
      );
    } catch (e) {
      throw new LoadError(
        `${deps.target.name} target refused a batch of ${changed.length} cards: ${(e as Error).message}`,
      );
    }
    load.created! += result.created;
    load.updated! += result.updated;
    load.failed! += result.failed.length;
    targetRefusals += result.failed.length;
    const failedKeys = new Set(result.failed.map((f) => f.key));
    for (const f of result.failed) issues.add(`${m.uniqueAttribute}=${f.key}: ${f.error}`);
    if (failedKeys.size > 0) {
      const keep = protectedKeys.get(kind) ?? new Set<string>();
      for (const k of failedKeys) keep.add(k);
      protectedKeys.set(kind, keep);
    }
    deps.cache.commit(
      taskKey,
      kind,
      req.runId,
      changed.filter((p) => !failedKeys.has(p.key)).map((p) => ({ key: p.key, hash: p.hash })),
      [],
    );
    progress();
  };

  const flush = async (kind: RecordKind): Promise<void> => {
    const batch = pending.get(kind);
    if (!batch || batch.length === 0) return;
    pending.set(kind, []);
    const m = mappings.get(kind)!;
    if (!load.startTime) {
      load.startTime = now().toISOString();
      load.status = 'Running';
    }
    const known = cacheWasEmpty
      ? new Map<string, string>()
      : deps.cache.lookup(
          taskKey,
          kind,
          batch.map((p) => p.key),
        );
    const changed = batch.filter((p) => known.get(p.key) !== p.hash);
    const unchanged = batch.filter((p) => known.get(p.key) === p.hash).map((p) => p.key);
    load.unchanged! += unchanged.length;
    if (unchanged.length > 0) deps.cache.commit(taskKey, kind, req.runId, [], unchanged);
    await settleWrites();
    if (changed.length > 0) {
      writing = write(kind, m, changed).catch((e: unknown) => {
        writeFailure = e as Error;
      });
    }
    progress();
  };

  let failure: Error | undefined;
  try {
    if (!type.extract) {
      throw new ExtractError(
        `scheduled tasks of ${connector.spec.type} connectors cannot run yet in this version of Provisio`,
      );
    }
    const extraction = type.extract({
      connector,
      task,
      namespace: namespaceOf(task),
      secrets: deps.secrets,
      signal,
      log,
      mode: incremental && Object.keys(cursors).length > 0 ? 'incremental' : 'full',
      cursors,
      progress: (p) => {
        extract.apiCalls = p.apiCalls;
        progress();
      },
    });
    let position = 0;
    for await (const record of extraction) {
      if (signal.aborted) break;
      position++;
      extract.records = position;
      await artifacts.write(record.kind, record.data);
      const m = mappings.get(record.kind);
      if (!m) {
        load.failed!++;
        issues.add(
          `record #${position} is a ${record.kind} record but the task has no ${KIND_BLOCK[record.kind]} mappings`,
        );
        continue;
      }
      const mapped = m.map(record.data);
      if (mapped.key === undefined) {
        load.failed!++;
        issues.add(
          `record #${position} has no value at "${m.uniqueExternal}" (the unique attribute) and was not loaded`,
        );
        continue;
      }
      if (mapped.errors.length > 0) {
        issues.add(`${m.uniqueAttribute}=${mapped.key}: ${mapped.errors.join(', ')}`);
      }
      let batch = pending.get(record.kind);
      if (!batch) {
        batch = [];
        pending.set(record.kind, batch);
      }
      batch.push({ key: mapped.key, hash: mapped.hash, card: mapped.card, json: mapped.json });
      if (batch.length >= batchSize) await flush(record.kind);
    }
    throwIfAborted(signal, req.signal);
    for (const kind of pending.keys()) await flush(kind);
    await settleWrites();
    outcome = extraction.outcome();
    extract.status = outcome.complete ? 'Succeeded' : 'Incomplete';
    extract.completionTime = now().toISOString();
    extract.info = outcome.complete ? readSummary(extract) : `${outcome.reason}; ${readSummary(extract)}`;

    if (!outcome.complete) {
      load.info = 'deletion marking skipped: the extract is incomplete';
      log.warn({ reason: outcome.reason }, `extract incomplete (${outcome.reason}): deletion marking skipped`);
    } else if (!incremental) {
      for (const [kind, m] of mappings) {
        const block = task.spec.mappings?.[KIND_BLOCK[kind]] as TaskMapping;
        if (!block.onDeleted || !block.taskIdAttribute) continue;
        throwIfAborted(signal, req.signal);
        load.deleted! += await markDeletions(
          deps,
          task,
          taskKey,
          kind,
          m,
          block,
          req.runId,
          protectedKeys.get(kind),
          log,
        );
      }
    }
    // Cursors advance only after the load succeeded; a kind the connector left out keeps its cursor.
    if (incremental && targetRefusals === 0 && outcome.cursors) {
      deps.cache.setCursors(taskKey, { ...cursors, ...outcome.cursors });
    }
    // Source rows that cannot load are reported but do not fail the run; cards the target refused do.
    load.status = targetRefusals > 0 ? 'Failed' : 'Succeeded';
  } catch (e) {
    failure = e as Error;
  }

  // Whatever happened, what was extracted so far is loaded: loads are idempotent per card.
  if (failure && !(failure instanceof LoadError)) {
    try {
      for (const kind of pending.keys()) await flush(kind);
      await settleWrites();
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'could not load the records extracted before the run ended');
    }
  }
  // A batch still in the target when the run failed finishes before the run is recorded.
  await writing;
  const files = await artifacts.close();
  if (Object.keys(files).length > 0) run.artifacts = files;
  pruneArtifacts(join(deps.artifactsRoot, namespaceOf(task), task.metadata.name), deps.keepArtifacts ?? 3);

  if (failure) await recordFailure(deps, task, run, failure, signal, req.signal, log);
  load.completionTime = now().toISOString();
  const summary = loadSummary(load, issues);
  load.info = load.info ? `${load.info}; ${summary}` : summary;
  progress(true);
  log.info(
    {
      extract: extract.status,
      load: load.status,
      records: extract.records,
      created: load.created,
      updated: load.updated,
      unchanged: load.unchanged,
      deleted: load.deleted,
      failed: load.failed,
    },
    `run ${extract.status === 'Succeeded' && load.status === 'Succeeded' ? 'succeeded' : 'ended'}: ${extract.info ?? ''}; ${load.info}`,
  );
  return run;
}

function subqueriesOf(task: Task): string[] {
  const source = task.spec.source ? (Object.values(task.spec.source)[0] as { subqueries?: string[] }) : undefined;
  return source?.subqueries ?? [];
}

function throwIfAborted(signal: AbortSignal, stopSignal: AbortSignal): void {
  if (!signal.aborted) return;
  if (stopSignal.aborted) throw new RunStoppedError('the run was stopped on request');
  throw new ExtractError('the run exceeded its timeout and was stopped', 'Failed');
}

/** Applies cache clears due before this run: mapping change, request, configured hours. */
function prepareCache(cache: TaskCache, task: Task, taskKey: string, now: Date, log: Logger): void {
  const meta = cache.meta(taskKey);
  const hash = mappingHash({ mappingsType: task.spec.mappingsType, mappings: task.spec.mappings });
  const due = lastClearTime(task.spec.cache?.clearAt ?? ['00:00'], now);
  let reason: string | undefined;
  if (meta.mappingHash !== undefined && meta.mappingHash !== hash) reason = 'the task mappings changed';
  else if (meta.clearRequested) reason = 'a clear was requested';
  else if (due && (!meta.clearedAt || Date.parse(meta.clearedAt) < due.getTime()))
    reason = 'a scheduled clear time passed';
  if (meta.mappingHash !== hash) cache.setMappingHash(taskKey, hash);
  if (reason) {
    cache.clear(taskKey, now);
    log.info({ reason }, `task cache cleared because ${reason}: every record is loaded again`);
  }
}

async function markDeletions(
  deps: EngineDeps,
  task: Task,
  taskKey: string,
  kind: RecordKind,
  m: CompiledMapping,
  block: TaskMapping,
  runId: string,
  protectedKeys: Set<string> | undefined,
  log: Logger,
): Promise<number> {
  const onDeleted = block.onDeleted!;
  let owned = 0;
  const unseen: string[] = [];
  let chunk: string[] = [];
  const check = () => {
    for (const key of deps.cache.unseenAmong(taskKey, kind, chunk, runId))
      if (!protectedKeys?.has(key)) unseen.push(key);
    chunk = [];
  };
  for await (const key of deps.target.ownedCards({
    template: m.template,
    uniqueAttribute: m.uniqueAttribute,
    taskIdAttribute: block.taskIdAttribute!,
    taskId: taskKey,
    notMarked: onDeleted,
  })) {
    owned++;
    chunk.push(key);
    if (chunk.length >= 1000) check();
  }
  check();
  if (unseen.length === 0) return 0;
  const maxFraction = task.spec.deletion?.maxFraction ?? 0.2;
  if (unseen.length / owned > maxFraction) {
    throw new DeletionGuardError(
      `refusing to mark ${unseen.length} of ${owned} ${m.template} cards deleted ` +
        `(${Math.round((unseen.length / owned) * 100)}% > deletion.maxFraction ${Math.round(maxFraction * 100)}%); ` +
        'nothing was marked. If the source really lost these records, raise deletion.maxFraction for one run.',
    );
  }
  let marked = 0;
  for (let i = 0; i < unseen.length; i += 1000) {
    const chunk = unseen.slice(i, i + 1000);
    marked += await deps.target.markDeleted(m.template, m.uniqueAttribute, chunk, onDeleted);
    // A record that comes back must load again even if it did not change.
    deps.cache.forget(taskKey, kind, chunk);
  }
  log.info(
    { template: m.template, marked, owned },
    `marked ${marked} ${m.template} cards deleted (${onDeleted.attribute} = ${onDeleted.value})`,
  );
  return marked;
}

async function recordFailure(
  deps: EngineDeps,
  task: Task,
  run: TaskRunSummary,
  failure: Error,
  signal: AbortSignal,
  stopSignal: AbortSignal,
  log: Logger,
): Promise<void> {
  const extract = run.extract!;
  const load = run.load!;
  const stopped = failure instanceof RunStoppedError || (stopSignal.aborted && signal.aborted);
  if (extract.status === 'Running') {
    extract.status = stopped ? 'Stopped' : failure instanceof ExtractError ? failure.status : 'Failed';
    extract.completionTime = new Date().toISOString();
    extract.info = `${stopped ? 'stopped on request' : failure.message}; ${readSummary(extract)}`;
    load.info = 'deletion marking skipped: the extract did not complete';
  } else {
    load.info = failure.message;
  }
  if (stopped) load.status = 'Stopped';
  else if (failure instanceof LoadError || failure instanceof DeletionGuardError) load.status = 'Failed';
  // The extract failed: what it read before is loaded (loads are idempotent), so the load failed
  // part-way if anything was written, and was skipped otherwise.
  else load.status = (load.created ?? 0) + (load.updated ?? 0) > 0 ? 'Failed' : 'Skipped';
  if (stopped || !task.spec.failure) return;
  const f = task.spec.failure;
  const message = `Task ${keyOf(task)} run ${run.id} failed: ${extract.status !== 'Succeeded' ? extract.info : load.info}`;
  try {
    await deps.target.createCard(f.template, f.folder, { [f.attribute]: message });
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'could not write the failure card');
  }
}

/** `read 3 records in 1 API call`. */
function readSummary(extract: NonNullable<TaskRunSummary['extract']>): string {
  const plural = (n: number | undefined, word: string) => `${n ?? 0} ${word}${n === 1 ? '' : 's'}`;
  return `read ${plural(extract.records, 'record')} in ${plural(extract.apiCalls, 'API call')}`;
}

function loadSummary(load: NonNullable<TaskRunSummary['load']>, issues: IssueList): string {
  const counts = `created ${load.created}, updated ${load.updated}, unchanged ${load.unchanged}, marked deleted ${load.deleted}, not loaded ${load.failed}`;
  return issues.count > 0 ? `${counts}; ${issues.toString()}` : counts;
}
