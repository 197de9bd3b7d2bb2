/**
 * One run of a scheduled task (DESIGN §2): extract → map → cache diff → load → deletion marking → run
 * record, records streaming through in batches; nothing holds the whole extract. The phases live in
 * files of their own; this one says in which order they run and what a failure skips:
 * - deletion marking runs only after an extract the connector declared complete, of a full task
 *   (deletions.ts: deletion.confirmRuns runs in a row, never beyond deletion.maxFraction);
 * - whatever happened, what was extracted is loaded (loads are idempotent per card);
 * - cursors advance only after the load succeeded; a cache clear leaves them alone.
 */

import type { ExtractOutcome } from '../model/records.js';
import type { TaskRunSummary } from '../model/resources.js';
import { pruneArtifacts } from './artifacts.js';
import { describeWaiting, markMissing, resetSeenMisses } from './deletions.js';
import type { EngineDeps, RunRequest } from './engine-deps.js';
import { extractAndLoad, loadEverything, throwIfAborted } from './extract-phase.js';
import { openRun, type RunContext } from './run-context.js';
import { asRunFailure, recordFailure, writeFailureCard } from './run-failure.js';
import { checkTarget } from './target-requirements.js';

export { lastClearTime } from './cache-policy.js';
export type { EngineDeps, RunRequest, RunTrigger } from './engine-deps.js';

export async function runTask(deps: EngineDeps, req: RunRequest): Promise<TaskRunSummary> {
  const ctx = openRun(deps, req);
  // Recorded before any work: a run cut off by a crash from here on is found and marked interrupted.
  ctx.record.progress(true);
  let failure: unknown;
  try {
    await checkTarget(ctx);
    const outcome = await extractAndLoad(ctx);
    await endExtract(ctx, outcome);
    // An incremental task marks what is missing only for kinds it had to read in full (ResyncRequired).
    if (outcome.complete && (!ctx.incremental || ctx.resynced.size > 0)) await markAllMissing(ctx);
    storeCursors(ctx, outcome);
    // Source rows that cannot load are reported but do not fail the run; cards the target refused do.
    ctx.record.load.status = ctx.pipeline.refusals > 0 ? 'Failed' : 'Succeeded';
    if (ctx.pipeline.refusals > 0) ctx.record.summary.reason ??= 'LoadFailed';
  } catch (e) {
    failure = e;
  }
  await closeRun(ctx, failure);
  return ctx.record.finish(ctx.log);
}

async function endExtract(ctx: RunContext, outcome: ExtractOutcome): Promise<void> {
  const { extract, load, summary } = ctx.record;
  extract.status = outcome.complete ? 'Succeeded' : 'Incomplete';
  extract.completionTime = ctx.record.now().toISOString();
  const notes = outcome.notes?.length ? `${outcome.notes.join('; ')}; ` : '';
  const read = `${notes}${ctx.record.readSummary()}`;
  extract.info = outcome.complete ? read : `${outcome.reason ?? 'the source did not deliver everything'}; ${read}`;
  for (const [kind, n] of ctx.pipeline.unmarked()) {
    ctx.record.notes.push(
      `${n} ${kind} records the source reported deleted were not marked: the ${kind} mappings have no onDeleted`,
    );
  }
  if (outcome.complete) return;
  summary.reason = 'ExtractIncomplete';
  load.info = 'deletion marking skipped: the extract is incomplete';
  ctx.log.warn({ reason: outcome.reason }, `the extract is incomplete: ${outcome.reason}`);
  await writeFailureCard(ctx);
}

async function markAllMissing(ctx: RunContext): Promise<void> {
  const deletion = ctx.task.spec.deletion;
  const policy = { confirmRuns: deletion?.confirmRuns ?? 1, maxFraction: deletion?.maxFraction ?? 0.2 };
  const { load } = ctx.record;
  const marking = [...ctx.plans.values()]
    .filter((plan) => plan.block.onDeleted && plan.block.taskIdAttribute)
    .filter((plan) => !ctx.incremental || ctx.resynced.has(plan.kind))
    .map((plan) => ({
      target: ctx.target,
      cache: ctx.deps.cache,
      taskKey: ctx.taskKey,
      runId: ctx.req.runId,
      plan,
      policy,
      refused: ctx.pipeline.refusedKeys(plan.kind),
      log: ctx.log,
    }));
  for (const o of marking) resetSeenMisses(o);
  for (const o of marking) {
    throwIfAborted(ctx);
    const result = await markMissing(o);
    load.deleted += result.marked;
    const waiting = [...result.waiting.values()].reduce((a, b) => a + b, 0);
    if (waiting > 0) {
      load.missing = (load.missing ?? 0) + waiting;
      ctx.record.notes.push(...describeWaiting(result.waiting, policy.confirmRuns));
    }
  }
}

/** A kind the connector left out keeps its cursor; nothing advances after an incomplete extract or refused cards. */
function storeCursors(ctx: RunContext, outcome: ExtractOutcome): void {
  // An incomplete extract hands over no cursor: the changes it did not read would be skipped for good.
  if (!ctx.incremental || !outcome.complete || ctx.pipeline.refusals > 0 || !outcome.cursors) return;
  ctx.deps.cache.setCursors(ctx.taskKey, { ...ctx.cursors, ...outcome.cursors });
}

async function closeRun(ctx: RunContext, failure: unknown): Promise<void> {
  // Whatever happened, what was extracted so far is loaded: loads are idempotent per card.
  const f = failure === undefined ? undefined : asRunFailure(ctx, failure);
  if (f && f.reason !== 'LoadFailed') {
    try {
      await loadEverything(ctx, ctx.signal.aborted);
    } catch (e) {
      ctx.log.warn({ err: (e as Error).message }, 'could not load the records extracted before the run ended');
    }
  }
  // A batch still in the target when the run failed finishes before the run is recorded.
  await ctx.pipeline.drain();
  ctx.deferred.close();
  const files = await ctx.artifacts.close();
  if (Object.keys(files).length > 0) ctx.record.summary.artifacts = files;
  pruneArtifacts(ctx.artifactsDir, ctx.deps.keepArtifacts ?? 3);
  if (failure !== undefined) await recordFailure(ctx, failure);
}
