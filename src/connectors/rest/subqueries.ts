/**
 * Subqueries (seed 000 §4.5): one level of follow-up calls per main row, such as /employees/{id}/groups.
 * `{attr}` takes the row's first-level attribute, URL-encoded; the result is stored on the row under the
 * template string, which is how mappings address it (`/employees/{id}/groups.0.name`).
 */
import type { Logger } from '../../log/logger.js';
import { joinUrl } from '../../transport/url.js';
import type { RestApi } from './api.js';
import type { PagingPlan } from './config.js';
import { paginate } from './pagination.js';
import { selectSubqueryValue } from './records.js';

export type Expanded = { query: string } | { missing: string };

/** Replaces every `{attr}` of the template; scalars only, since an object has no single URL form. */
export function expandSubquery(template: string, row: Record<string, unknown>): Expanded {
  const missing: string[] = [];
  const query = template.replace(/\{([^{}]+)\}/g, (_m, name: string) => {
    const value = row[name];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return encodeURIComponent(String(value));
    }
    missing.push(name);
    return '';
  });
  return missing.length === 0 ? { query } : { missing: missing[0] };
}

export interface SubqueryOptions {
  api: RestApi;
  baseUrl: URL;
  plan: PagingPlan;
  templates: readonly string[];
  valueMarker?: string;
  log: Logger;
}

/** Runs the row's subqueries one after another and returns the row with their results added. */
export async function withSubqueries(
  row: Record<string, unknown>,
  options: SubqueryOptions,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...row };
  for (const template of options.templates) {
    const expanded = expandSubquery(template, row);
    if ('missing' in expanded) {
      options.log.debug(
        { subquery: template, attribute: expanded.missing },
        'row lacks the subquery attribute; skipped',
      );
      out[template] = null;
      continue;
    }
    out[template] = await fetchSubquery(joinUrl(options.baseUrl.href, expanded.query), options);
  }
  return out;
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

/**
 * Maps items with at most `limit` calls in flight and yields results in input order, so that output order
 * never depends on which server answer arrives first.
 */
export async function* mapOrdered<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight: Array<Promise<R>> = [];
  let next = 0;
  const start = (): void => {
    const p = fn(items[next++]);
    // Rejections are handled when the promise reaches the head; this keeps Node from calling them unhandled.
    p.catch(() => {});
    inFlight.push(p);
  };
  while (next < items.length && inFlight.length < limit) start();
  while (inFlight.length > 0) {
    const result = await (inFlight.shift() as Promise<R>);
    if (next < items.length) start();
    yield result;
  }
}
