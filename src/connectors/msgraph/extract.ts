/**
 * The scheduled extract: users and groups (identity, access) read in full or through delta rounds, or a
 * generic Graph query with subqueries. The run info says what the connector decided for the admin (headers
 * it added, records excluded, kinds read in full again); a listing the run cannot trust makes the extract
 * Incomplete, so that no deletions are marked from it.
 */
import { SecretScrubber } from '../../transport/scrub.js';
import { toExtractError } from '../kit/session-scope.js';
import type { ExtractContext, ExtractedRecord, Extraction, ExtractOutcome } from '../types.js';
import { CONCURRENCY } from './config.js';
import { deltaRead } from './delta.js';
import { fullRead, type RunState } from './full.js';
import { genericRead } from './generic.js';
import { plan } from './plan.js';
import { type GraphRuntimeOptions, openGraphSession } from './session.js';

export function extractGraph(ctx: ExtractContext, options: GraphRuntimeOptions = {}): Extraction {
  const outcome: ExtractOutcome = { complete: true };
  return { [Symbol.asyncIterator]: () => run(ctx, options, outcome), outcome: () => outcome };
}

async function* run(ctx: ExtractContext, options: GraphRuntimeOptions, outcome: ExtractOutcome) {
  const p = plan(ctx.task);
  const session = await openGraphSession(ctx, { ...options, headers: p.source.headers }).catch((e: unknown) => {
    throw toExtractError(e, new SecretScrubber(), ctx.signal, 'Microsoft Graph');
  });
  const { api } = session;
  const state: RunState = {
    api,
    host: session.host,
    plan: p,
    concurrency: options.concurrency ?? CONCURRENCY,
    records: 0,
    notes: [],
    reasons: [],
    progress: () => ctx.progress({ records: state.records, apiCalls: api.calls }),
  };
  try {
    yield* reads(ctx, state, outcome);
    if (state.reasons.length > 0) {
      outcome.complete = false;
      outcome.reason = `${state.reasons.join('; ')}: deletion marking skipped`;
    }
    if (api.throttled > 0) state.notes.push(`${api.throttled} throttled Graph calls waited out (Retry-After)`);
    outcome.notes = [...new Set(state.notes)];
    ctx.log.info(
      { records: state.records, apiCalls: api.calls, throttled: api.throttled, complete: outcome.complete },
      'Microsoft Graph extract finished',
    );
  } catch (e) {
    throw session.toExtractError(e);
  } finally {
    state.progress();
    await session.close();
  }
}

function reads(ctx: ExtractContext, s: RunState, outcome: ExtractOutcome): AsyncGenerator<ExtractedRecord> {
  const mt = ctx.task.spec.mappingsType ?? 'identityAndAccess';
  if (mt === 'generic') return genericRead(ctx, s);
  if (s.plan.incremental) return deltaRead(ctx, s, outcome);
  return fullRead(s);
}
