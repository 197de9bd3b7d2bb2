/**
 * The extract side of a run: streams the connector's records into the load pipeline, one at a time, in
 * the order they come, except for kinds that reference another kind (they wait on disk until the stream
 * ended and the referenced kind is loaded). A connector that finds a kind's cursor expired raises
 * ResyncRequired: the extract starts again with that kind read in full, once per kind and run.
 */
import type { ExtractContext } from '../connectors/types.js';
import { ResyncRequired, RunFailure } from '../model/errors.js';
import type { ExtractedRecord, ExtractOutcome } from '../model/records.js';
import { namespaceOf } from '../model/resources.js';
import { DeferredRecords } from './deferred-records.js';
import type { KindPlan } from './kind-plans.js';
import { registerConnectorSecrets, scrubRecord } from './record-scrubber.js';
import type { RunContext } from './run-context.js';

export async function extractAndLoad(ctx: RunContext): Promise<ExtractOutcome> {
  const extract = ctx.type.extract;
  if (!extract) {
    throw new RunFailure(
      `scheduled tasks of ${ctx.connector.spec.type} connectors cannot run yet in this version of Provisio`,
      'Unsupported',
    );
  }
  const { resynced } = ctx;
  await registerConnectorSecrets(ctx.scrubber, ctx.type, ctx.connector, {
    resolver: ctx.deps.secrets,
    namespace: namespaceOf(ctx.task),
  });
  for (;;) {
    let position = 0;
    try {
      const extraction = extract(extractContext(ctx));
      for await (const extracted of extraction) {
        if (ctx.signal.aborted) break;
        // Credentials the source echoed never reach artifacts or cards.
        const record = scrubRecord(ctx.scrubber, extracted);
        position++;
        ctx.record.extract.records = position;
        await ctx.artifacts.write(record.kind, record.data);
        await route(ctx, record, position);
      }
      throwIfAborted(ctx);
      const outcome = extraction.outcome();
      await loadEverything(ctx);
      return outcome;
    } catch (e) {
      if (!(e instanceof ResyncRequired) || resynced.has(e.kind) || ctx.signal.aborted) throw e;
      resynced.add(e.kind);
      delete ctx.cursors[e.kind];
      // The extract starts again: what waited for references is read again too, and counted once.
      ctx.deferred.close();
      ctx.deferred = new DeferredRecords(ctx.deferredDir);
      ctx.record.extract.records = 0;
      ctx.record.notes.push(`${e.kind} records read in full: ${e.message}`);
      ctx.log.warn(
        { kind: e.kind, reason: e.message },
        `the source cannot continue the ${e.kind} records from where the last run ended (${e.message}): reading them in full`,
      );
    }
  }
}

function extractContext(ctx: RunContext): ExtractContext {
  return {
    connector: ctx.connector,
    task: ctx.task,
    namespace: namespaceOf(ctx.task),
    secrets: ctx.deps.secrets,
    signal: ctx.signal,
    log: ctx.log,
    connectorFile: ctx.req.connectorFile,
    mode: ctx.incremental && Object.keys(ctx.cursors).length > 0 ? 'incremental' : 'full',
    cursors: { ...ctx.cursors },
    progress: (p) => {
      ctx.record.extract.apiCalls = p.apiCalls;
      // A total heard for the first time (or changed) is handed on at once: a progress bar gets its end now.
      const news = p.total !== undefined && p.total !== ctx.record.extract.total;
      if (p.total !== undefined) ctx.record.extract.total = p.total;
      ctx.record.progress(news);
    },
    scrubber: ctx.scrubber,
  };
}

async function route(ctx: RunContext, record: ExtractedRecord, position: number): Promise<void> {
  const plan = ctx.plans.get(record.kind);
  if (!plan) {
    ctx.record.load.failed++;
    ctx.record.issues.add(`record #${position} is a ${record.kind} record but the task has no ${record.kind} mappings`);
    return;
  }
  if (plan.dependsOn.length > 0) await ctx.deferred.add(record, position);
  else await loadRecord(ctx, plan, record, position);
}

export async function loadRecord(
  ctx: RunContext,
  plan: KindPlan,
  record: ExtractedRecord,
  position: number,
): Promise<void> {
  const m = plan.mapping;
  const { load, issues } = ctx.record;
  if (record.op === 'delete') {
    const key = record.key ?? m.map(record.data).key;
    if (key !== undefined) return ctx.pipeline.delete(plan, key);
    load.failed++;
    issues.add(`record #${position} is reported deleted but has no key and no value at "${m.uniqueExternal}"`);
    return;
  }
  const mapped = m.map(record.data);
  if (mapped.key === undefined) {
    load.failed++;
    issues.add(`record #${position} has no value at "${m.uniqueExternal}" (the unique attribute) and was not loaded`);
    return;
  }
  if (mapped.errors.length > 0) issues.add(`${m.uniqueAttribute}=${mapped.key}: ${mapped.errors.join(', ')}`);
  await ctx.pipeline.upsert(plan, { key: mapped.key, hash: mapped.hash, card: mapped.card, json: mapped.json });
}

/**
 * Loads what waits: first every kind that loads as it comes, then the kinds that reference others, each
 * after the kinds it references (so that their cards exist when the target resolves the references).
 */
export async function loadEverything(ctx: RunContext, stopping = false): Promise<void> {
  const plans = [...ctx.plans.values()];
  const ready = plans.filter((p) => p.dependsOn.length === 0);
  const waiting = plans.filter((p) => p.dependsOn.length > 0).sort((a, b) => a.dependsOn.length - b.dependsOn.length);
  for (const plan of ready) await ctx.pipeline.flush(plan);
  await ctx.pipeline.settle();
  // A stopped run loads what it read of the kinds that load as they come, and leaves the rest.
  if (stopping) return;
  for (const plan of waiting) {
    for await (const [position, record] of ctx.deferred.take(plan.kind)) {
      if (ctx.signal.aborted) break;
      await loadRecord(ctx, plan, record, position);
    }
    await ctx.pipeline.flush(plan);
    await ctx.pipeline.settle();
  }
  throwIfAborted(ctx);
}

export function throwIfAborted(ctx: RunContext): void {
  if (!ctx.signal.aborted) return;
  if (ctx.req.signal.aborted) throw new RunFailure('the run was stopped on request', 'Stopped');
  throw new RunFailure('the run exceeded its timeout and was stopped', 'TimedOut');
}
