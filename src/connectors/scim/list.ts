/**
 * One SCIM list endpoint (`/Users`, `/Groups`) page by page: `startIndex`/`count`, the next page starting after
 * the Resources actually received (servers cap pages below the requested count, and `itemsPerPage` often echoes
 * the request, so it is never read). The end is `totalResults` reached, or an empty page. What the run cannot
 * trust makes the listing Incomplete, in admin words: fewer or more records than `totalResults` announced, a
 * total that changed while the run read the pages, and (from the kit's loop) a page repeated.
 */
import { isRecord } from '../kit/markers.js';
import { type Paging, paginate } from '../kit/paging/paginate.js';
import type { PageResponse, PagingStrategy } from '../kit/paging/strategy.js';
import { ExtractError } from '../types.js';
import type { ScimApi } from './api.js';

export type ScimResource = Record<string, unknown>;

export interface ListQuery {
  url: URL;
  /** `users` or `groups`, as the reasons say. */
  noun: string;
  filter?: string;
  attributes?: readonly string[];
  pageSize: number;
}

export interface ListOutcome {
  complete: boolean;
  reason?: string;
  read: number;
}

export interface Listing extends AsyncIterable<ScimResource[]> {
  /** Meaningful once iteration ended without an error. */
  outcome(): ListOutcome;
}

/** The first page's URL: the filter and attributes URL-encoded (%20, never +), then startIndex and count. */
export function listUrl(query: ListQuery, startIndex: number): URL {
  const params: Array<[string, string]> = [];
  if (query.filter) params.push(['filter', query.filter]);
  if (query.attributes?.length) params.push(['attributes', query.attributes.join(',')]);
  params.push(['startIndex', String(startIndex)], ['count', String(query.pageSize)]);
  const url = new URL(query.url.href);
  url.search = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return url;
}

const totalOf = (body: unknown): number | undefined => {
  const t = isRecord(body) ? body.totalResults : undefined;
  return typeof t === 'number' && Number.isSafeInteger(t) && t >= 0 ? t : undefined;
};

const startOf = (url: URL): number => Number(url.searchParams.get('startIndex') ?? '1');

function scimPaging(query: ListQuery): PagingStrategy {
  return {
    first: () => ({ url: listUrl(query, 1) }),
    next: ({ response, rows }) => {
      if (rows.length === 0) return undefined;
      const next = startOf(response.url) + rows.length;
      const total = totalOf(response.body);
      if (total !== undefined ? next - 1 >= total : rows.length < query.pageSize) return undefined;
      return { url: listUrl(query, next) };
    },
  };
}

function resources(api: ScimApi, response: PageResponse): ScimResource[] {
  const where = api.describe(response.url);
  const body = response.body;
  if (!isRecord(body)) throw new ExtractError(`response from ${where} is not a SCIM ListResponse`);
  const list = body.Resources ?? [];
  if (!Array.isArray(list)) throw new ExtractError(`"Resources" in the response from ${where} is not an array`);
  list.forEach((r, i) => {
    if (!isRecord(r)) throw new ExtractError(`resource ${i + 1} of the response from ${where} is not an object`);
  });
  return list as ScimResource[];
}

export function listResources(api: ScimApi, query: ListQuery): Listing {
  const outcome: ListOutcome = { complete: true, read: 0 };
  return { [Symbol.asyncIterator]: () => pages(api, query, outcome), outcome: () => outcome };
}

async function* pages(api: ScimApi, query: ListQuery, outcome: ListOutcome): AsyncGenerator<ScimResource[]> {
  const where = api.describe(query.url);
  let first: number | undefined;
  let last: number | undefined;
  const paging: Paging = paginate({
    strategy: scimPaging(query),
    url: query.url,
    fetch: (url) => api.getJson(url),
    rows: (response) => {
      const total = totalOf(response.body);
      if (first === undefined) first = total;
      last = total;
      return resources(api, response);
    },
  });
  for await (const page of paging) {
    const rows = (page.rows ?? []) as ScimResource[];
    outcome.read += rows.length;
    yield rows;
  }
  const kit = paging.outcome();
  const reason = kit.complete ? totalsReason(where, query.noun, outcome.read, first, last) : kit.reason;
  if (reason) {
    outcome.complete = false;
    outcome.reason = reason;
  }
}

/** Why the totals say the listing is not the whole set; undefined when they agree (or none was announced). */
export function totalsReason(
  where: string,
  noun: string,
  read: number,
  first: number | undefined,
  last: number | undefined,
): string | undefined {
  if (first === undefined) return undefined;
  if (last !== undefined && last !== first) {
    return `${where}: the server's totalResults changed from ${first} to ${last} while the run read the pages`;
  }
  if (read < first) return `${where} stopped at ${read} of the ${first} ${noun} the server announced (totalResults)`;
  if (read > first) return `${where} read ${read} ${noun}, more than the ${first} the server announced (totalResults)`;
  return undefined;
}
