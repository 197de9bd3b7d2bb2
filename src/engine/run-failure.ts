/**
 * How a run that did not end well is recorded: the phase statuses and the run's reason are worked out
 * once, from the typed error (model/errors.ts), and the task's failure card is written if it has one.
 */
import { RunFailure } from '../model/errors.js';
import { keyOf } from '../model/resources.js';
import type { RunContext } from './run-context.js';

/** Any error as a RunFailure: a stop or timeout shows through whatever error the abort caused. */
export function asRunFailure(ctx: RunContext, failure: unknown): RunFailure {
  if (ctx.req.signal.aborted) return new RunFailure('stopped on request', 'Stopped');
  if (failure instanceof RunFailure) return failure;
  if (ctx.signal.aborted) return new RunFailure('the run exceeded its timeout and was stopped', 'TimedOut');
  // An unexpected error after the extract ended happened while loading or marking.
  const reason = ctx.record.extract.status === 'Running' ? 'ExtractFailed' : 'LoadFailed';
  return new RunFailure((failure as Error).message ?? String(failure), reason);
}

export async function recordFailure(ctx: RunContext, error: unknown): Promise<void> {
  const f = asRunFailure(ctx, error);
  const { record } = ctx;
  const { extract, load } = record;
  const stopped = f.reason === 'Stopped';
  record.summary.reason = f.reason;
  if (extract.status === 'Running') {
    extract.status = f.extractStatus;
    extract.completionTime = record.now().toISOString();
    extract.info = `${f.message}; ${record.readSummary()}`;
    load.info = 'deletion marking skipped: the extract did not complete';
  } else {
    load.info = f.message;
  }
  if (stopped) load.status = 'Stopped';
  else if (f.reason === 'LoadFailed' || f.reason === 'DeletionRefused') load.status = 'Failed';
  // The extract failed: what it read before is loaded (loads are idempotent), so the load failed
  // part-way if anything was written, and was skipped otherwise.
  else load.status = load.created + load.updated > 0 ? 'Failed' : 'Skipped';
  if (!stopped) await writeFailureCard(ctx);
}

/** The task's failure card (spec.failure), so that the home solution's workflows can react. */
export async function writeFailureCard(ctx: RunContext): Promise<void> {
  const f = ctx.task.spec.failure;
  if (!f) return;
  const { summary, extract, load } = ctx.record;
  const why = extract.status !== 'Succeeded' ? extract.info : load.info;
  const message = `Task ${keyOf(ctx.task)} run ${summary.id} failed: ${why}`;
  try {
    await ctx.target.createCard(f.template, f.folder, { [f.attribute]: message });
  } catch (e) {
    ctx.log.warn({ err: (e as Error).message }, 'could not write the failure card');
  }
}
