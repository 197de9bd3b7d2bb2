/**
 * REST subqueries: each expanded template (connectors/kit/subqueries.ts) is read as a GET of the base URL
 * plus the query, paged like the main query.
 */
import type { Logger } from '../../log/logger.js';
import { joinUrl } from '../../transport/url.js';
import { withSubqueries } from '../kit/subqueries.js';
import type { RestApi } from './api.js';
import type { PagingPlan } from './config.js';
import { paginate } from './pagination.js';
import { selectSubqueryValue } from './records.js';

export interface SubqueryOptions {
  api: RestApi;
  baseUrl: URL;
  plan: PagingPlan;
  templates: readonly string[];
  valueMarker?: string;
  log: Logger;
}

/** The row with its subqueries' results added (connectors/kit/subqueries.ts), each read as a paged GET. */
export function withRestSubqueries(
  row: Record<string, unknown>,
  options: SubqueryOptions,
): Promise<Record<string, unknown>> {
  const read = (query: string) => fetchSubquery(joinUrl(options.baseUrl.href, query), options);
  return withSubqueries(row, options.templates, read, options.log);
}

/**
 * One subquery, paged like the main query: list pages are concatenated; a response that is not a list
 * (a detail object) is stored as it is.
 */
async function fetchSubquery(url: URL, options: SubqueryOptions): Promise<unknown> {
  const collected: unknown[] = [];
  // Set by the rows callback when a response is not a list.
  const detail: { value?: unknown; seen: boolean } = { seen: false };
  const pages = paginate({
    api: options.api,
    plan: options.plan,
    url,
    origin: options.baseUrl,
    rows: (response) => {
      const value = selectSubqueryValue(response.body, options.valueMarker);
      if (Array.isArray(value)) return value;
      detail.value = value;
      detail.seen = true;
      return undefined;
    },
  });
  for await (const page of pages) if (page.rows) collected.push(...page.rows);
  // A subquery's paging oddity leaves one row's detail short but says nothing about which records exist,
  // so it does not make the extract incomplete; the pages read so far are kept.
  const outcome = pages.outcome();
  if (!outcome.complete) options.log.warn({ subquery: url.pathname }, `REST subquery stopped early: ${outcome.reason}`);
  // A first answer that is not a list is the result; a later one would be a paging oddity, so keep the list.
  return detail.seen && collected.length === 0 ? detail.value : collected;
}
