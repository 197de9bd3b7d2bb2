/**
 * The scheduled-task extract: the main query page by page, each page's rows completed with their
 * subqueries (a few rows at a time, yielded in source order), progress reported after every page.
 * Nothing beyond the current page is held in memory. The extract declares itself complete unless the
 * main query's paging met something it cannot trust (connectors/kit/paging/paginate.ts: a repeated page,
 * a repeated link or token, an announced total not matched); then the engine loads what was read and marks
 * no deletions.
 */

import { describeRequest, joinUrl } from '../../transport/url.js';
import { mapOrdered } from '../kit/subqueries.js';
import type { ExtractContext, ExtractedRecord, Extraction, ExtractOutcome } from '../types.js';
import { ExtractError } from '../types.js';
import { DEFAULT_SAFETY_THRESHOLD, pagingPlan, restBlock, restSource, totalReader } from './config.js';
import { paginate } from './pagination.js';
import { isRecord, selectRows } from './records.js';
import { openSession, type RestRuntimeOptions } from './session.js';
import { withRestSubqueries } from './subqueries.js';

export const DEFAULT_SUBQUERY_CONCURRENCY = 4;

export function extractRest(ctx: ExtractContext, options: RestRuntimeOptions = {}): Extraction {
  const outcome: ExtractOutcome = { complete: true };
  return { [Symbol.asyncIterator]: () => run(ctx, options, outcome), outcome: () => outcome };
}

async function* run(
  ctx: ExtractContext,
  options: RestRuntimeOptions,
  outcome: ExtractOutcome,
): AsyncGenerator<ExtractedRecord> {
  const source = restSource(ctx.task);
  const rest = restBlock(ctx.connector);
  const plan = pagingPlan(rest);
  const session = await openSession(ctx, {
    ...options,
    taskHeaders: source.headers,
    errorMarker: source.errorMarker,
    safetyThreshold: source.safetyThreshold ?? DEFAULT_SAFETY_THRESHOLD,
  });
  const { api, baseUrl } = session;
  const templates = source.subqueries ?? [];
  const subqueryOptions = { api, baseUrl, plan, templates, valueMarker: source.valueMarker || undefined, log: ctx.log };
  const concurrency = Math.max(1, options.subqueryConcurrency ?? DEFAULT_SUBQUERY_CONCURRENCY);
  let records = 0;
  let reported = 0;
  let announced: number | undefined;
  try {
    const url = joinUrl(rest.baseUrl, source.query);
    const pages = paginate({
      api,
      plan,
      url,
      origin: baseUrl,
      total: totalReader(rest),
      rows: (response) => {
        const where = describeRequest('GET', response.url);
        const rows = selectRows(response.body, source.valueMarker || undefined, where);
        rows.forEach((row, i) => {
          if (!isRecord(row)) {
            throw new ExtractError(`record ${i + 1} of the response from ${where} is not an object`);
          }
        });
        return rows;
      },
    });
    for await (const page of pages) {
      const rows = (page.rows ?? []) as Array<Record<string, unknown>>;
      const completed =
        templates.length === 0
          ? rows
          : mapOrdered(rows, concurrency, (row) => withRestSubqueries(row, subqueryOptions));
      for await (const data of completed) {
        records++;
        yield { kind: 'generic', data };
      }
      // Calls whose pages were handed over: the next page's request, already out, counts with its page.
      reported = api.callsMade - (page.nextRequested ? 1 : 0);
      announced ??= page.announced;
      ctx.progress({ records, apiCalls: reported, total: announced });
    }
    // A last page read but not handed over (a repeated page) counts too.
    if (api.callsMade !== reported) ctx.progress({ records, apiCalls: api.callsMade });
    const paging = pages.outcome();
    if (!paging.complete) {
      outcome.complete = false;
      outcome.reason = `${paging.reason}: deletion marking skipped`;
    }
    ctx.log.info({ records, apiCalls: api.callsMade, complete: outcome.complete }, 'REST extract finished');
  } catch (e) {
    // The calls of a failed page count too: "read 0 records in 1 API call", not "in 0".
    ctx.progress({ records, apiCalls: api.callsMade });
    throw session.toExtractError(e);
  } finally {
    await session.close();
  }
}
