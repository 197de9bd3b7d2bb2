/**
 * Pages of one query, streamed. Each pagination type decides the next request; end of data is detected
 * defensively because real APIs end in many ways: an empty page, a short page (offset and page styles),
 * no next link or token, a next link or token already seen (a loop), or a page identical to the one
 * before (an API that ignores the paging parameters and repeats itself). The safety threshold in the
 * API client bounds whatever slips through.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import { headerValue } from '../../transport/http-client.js';
import { assertSameOrigin, describeRequest, withParams } from '../../transport/url.js';
import { findLink } from '../kit/paging/link-header.js';
import { ExtractError } from '../types.js';
import type { ApiResponse, RestApi } from './api.js';
import type { PagingPlan } from './config.js';
import { readMarker } from './records.js';

export interface Page {
  /** 0 for the first page. */
  index: number;
  response: ApiResponse;
  /** The page's records; undefined when the response is not a list (a subquery answering with one object). */
  rows: unknown[] | undefined;
  /** The next page's request is already out (see paginate): callers counting calls so far leave it out. */
  nextRequested?: boolean;
}

export interface PaginateOptions {
  api: RestApi;
  plan: PagingPlan;
  /** The query's URL before paging parameters. */
  url: URL;
  /** Next links must stay on this origin: the connector's credentials go with them. */
  origin: URL;
  /** Extracts the records of a response; may throw (the main query insists on an array). */
  rows: (response: ApiResponse) => unknown[] | undefined;
  log: Logger;
}

export async function* paginate(options: PaginateOptions): AsyncGenerator<Page> {
  const { api, plan, log } = options;
  let url: URL | undefined = firstUrl(plan, options.url);
  // Every link or token followed, to stop when the API sends us in a circle.
  const followed = new Set<string>(plan.type === 'linkToken' ? [url.href] : []);
  let previousHash: string | undefined;
  let fetching: Promise<ApiResponse> | undefined = url && prefetch(api, url);
  for (let index = 0; url && fetching; index++) {
    const response = await fetching;
    const rows = options.rows(response);
    if (rows === undefined || rows.length === 0) {
      yield { index, response, rows };
      return;
    }
    // An API that ignores the paging parameters repeats the whole page, so its size and first and
    // last rows are enough to notice; hashing every row again would cost as much as parsing them.
    const hash = createHash('sha1')
      .update(`${rows.length}\u0000${JSON.stringify(rows[0])}\u0000${JSON.stringify(rows[rows.length - 1])}`)
      .digest('base64url');
    if (hash === previousHash) {
      log.warn(
        { request: describeRequest('GET', url), page: index + 1 },
        'REST page is identical to the previous one; the API seems to ignore the paging parameters, stopping here',
      );
      return;
    }
    previousHash = hash;
    // The next page is requested before this one is handed over, so that the source prepares it while
    // the consumer maps and loads this one. Only a page that would be fetched anyway is requested early;
    // a failure to work out the next request still surfaces after this page's records, as it would have.
    let following: URL | undefined;
    let failure: unknown;
    try {
      following = nextUrl(options, response, rows, index, followed);
    } catch (e) {
      failure = e;
    }
    fetching = following && prefetch(api, following);
    yield { index, response, rows, nextRequested: fetching !== undefined };
    if (failure !== undefined) throw failure;
    url = following;
  }
}

/** Starts a request whose outcome is awaited later; a consumer that stops first must not see it as unhandled. */
function prefetch(api: RestApi, url: URL): Promise<ApiResponse> {
  const response = api.getJson(url);
  response.catch(() => {});
  return response;
}

function firstUrl(plan: PagingPlan, url: URL): URL {
  switch (plan.type) {
    case 'startOffset':
      return withParams(url, { [plan.startParam]: plan.firstIndex, [plan.limitParam]: plan.pageSize });
    case 'pageIncrement':
      return withParams(url, { [plan.pageParam]: plan.firstPage, [plan.sizeParam]: plan.pageSize });
    default:
      return url;
  }
}

function nextUrl(
  options: PaginateOptions,
  response: ApiResponse,
  rows: unknown[],
  index: number,
  followed: Set<string>,
): URL | undefined {
  const { plan, log } = options;
  const where = describeRequest('GET', response.url);
  switch (plan.type) {
    case 'none':
      return undefined;
    case 'startOffset':
      if (rows.length < plan.pageSize) return undefined;
      return withParams(options.url, {
        [plan.startParam]: plan.firstIndex + (index + 1) * plan.pageSize,
        [plan.limitParam]: plan.pageSize,
      });
    case 'pageIncrement':
      if (rows.length < plan.pageSize) return undefined;
      return withParams(options.url, { [plan.pageParam]: plan.firstPage + index + 1, [plan.sizeParam]: plan.pageSize });
    case 'linkToken': {
      const link = plan.linkHeader
        ? findLink(headerValue(response.headers, 'link'), 'next')
        : readMarker(response.body, plan.nextLinkPath ?? '', 'spec.rest.pagination.nextLinkPath');
      if (link === undefined || link === null || link === '') return undefined;
      if (typeof link !== 'string') {
        throw new ExtractError(`next link "${plan.nextLinkPath}" in the response from ${where} is not a string`);
      }
      let next: URL;
      try {
        // Relative links are resolved against the request that returned them (RFC 3986 §5).
        next = new URL(link, response.url);
      } catch {
        throw new ExtractError(`next link in the response from ${where} is not a valid URL`);
      }
      assertSameOrigin(next, options.origin, `next link from ${where} (${next.origin})`);
      return seenBefore(followed, next.href, log, where) ? undefined : next;
    }
    case 'linkAttributeToken': {
      const token = readMarker(response.body, plan.tokenPath, 'spec.rest.pagination.tokenPath');
      if (token === undefined || token === null || token === '') return undefined;
      if (typeof token !== 'string' && typeof token !== 'number') {
        throw new ExtractError(`page token "${plan.tokenPath}" in the response from ${where} is not a string`);
      }
      if (seenBefore(followed, String(token), log, where)) return undefined;
      return withParams(options.url, { [plan.tokenParam]: String(token) });
    }
  }
}

function seenBefore(followed: Set<string>, key: string, log: Logger, where: string): boolean {
  if (followed.has(key)) {
    log.warn({ request: where }, 'REST API sent a next link or page token seen before (a loop); stopping here');
    return true;
  }
  followed.add(key);
  return false;
}
