/**
 * Pages of one query, streamed, with any paging strategy and any connector's fetch function. End of data
 * is what the strategy says (no next link or token, a short page). What the loop cannot trust ends the
 * paging as incomplete, with a reason in admin words, so that no deletions are marked from it:
 * - a non-empty page identical to the one before (a source that ignores the paging parameters);
 * - a next link or page token already followed (a loop);
 * - a total announced on the first page (see totals.ts) that the records read do not match, either way
 *   (fewer: pages were skipped, an empty or short page came too early, or records moved while paging by
 *   offset; more: the source changed while it was read).
 * An empty page ends offset and page styles (their strategy sees a short page); with links and tokens the
 * loop goes on as long as the source sends one, since the source says there is more.
 * Without a total, an early empty or short page in offset and page styles cannot be told from the end.
 */
import { createHash } from 'node:crypto';
import { describeRequest } from '../../../transport/url.js';
import type { PageRequest, PageResponse, PagingStrategy } from './strategy.js';
import type { TotalReader, TotalReading } from './totals.js';

export interface Page<R extends PageResponse = PageResponse> {
  /** 0 for the first page. */
  index: number;
  response: R;
  /** The page's records; undefined when the response is not a list (a subquery answering with one object). */
  rows: unknown[] | undefined;
  /** The next page's request is already out (see paginate): callers counting calls so far leave it out. */
  nextRequested?: boolean;
  /** Records the source announced on its first page (X-Total-Count, totalPath), when it did: for progress bars. */
  announced?: number;
}

export interface PagingOutcome {
  /** False when the loop stopped on something it cannot trust; `reason` says what. */
  complete: boolean;
  reason?: string;
  /** Records read from every page. */
  rows: number;
}

/** Pages, and once they are all read, whether they are the whole result. */
export interface Paging<R extends PageResponse = PageResponse> extends AsyncIterable<Page<R>> {
  /** Meaningful once iteration ended without an error. */
  outcome(): PagingOutcome;
}

export interface PaginateOptions<R extends PageResponse> {
  strategy: PagingStrategy;
  /** The query's URL before paging parameters. */
  url: URL;
  /** One counted request (it enforces the safety threshold); may throw. */
  fetch: (url: URL) => Promise<R>;
  /** Extracts the records of a response; may throw (a main query insists on an array). */
  rows: (response: R) => unknown[] | undefined;
  /** The total the source announces on its first page, if it does. */
  total?: TotalReader;
}

export function paginate<R extends PageResponse>(options: PaginateOptions<R>): Paging<R> {
  const outcome: PagingOutcome = { complete: true, rows: 0 };
  return { [Symbol.asyncIterator]: () => pages(options, outcome), outcome: () => outcome };
}

async function* pages<R extends PageResponse>(
  options: PaginateOptions<R>,
  outcome: PagingOutcome,
): AsyncGenerator<Page<R>> {
  const { strategy } = options;
  const query = describeRequest('GET', options.url);
  const incomplete = (reason: string): void => {
    outcome.complete = false;
    outcome.reason ??= reason;
  };
  const first = strategy.first(options.url);
  // Every link or token followed, to stop when the source sends the run in a circle.
  const followed = new Set<string>(first.followed ? [key(first)] : []);
  let total: TotalReading | undefined;
  let previousHash: string | undefined;
  let fetching: Promise<R> | undefined = prefetch(options.fetch, first.url);
  for (let index = 0; fetching; index++) {
    const response = await fetching;
    fetching = undefined;
    const rows = options.rows(response);
    if (index === 0 && options.total) total = options.total(response);
    if (rows !== undefined && rows.length > 0) {
      // A source that ignores the paging parameters repeats the whole page, so its size and first and
      // last rows are enough to notice; hashing every row again would cost as much as parsing them.
      const hash = createHash('sha1')
        .update(`${rows.length}\u0000${JSON.stringify(rows[0])}\u0000${JSON.stringify(rows[rows.length - 1])}`)
        .digest('base64url');
      if (hash === previousHash) {
        incomplete(
          `page ${index + 1} of ${query} repeated page ${index} (the source seems to ignore the paging parameters)`,
        );
        return;
      }
      previousHash = hash;
    }
    outcome.rows += rows?.length ?? 0;
    if (rows === undefined) {
      yield { index, response, rows };
      return;
    }
    // The next page is requested before this one is handed over, so that the source prepares it while
    // the consumer maps and loads this one. Only a page that would be fetched anyway is requested early;
    // a failure to work out the next request still surfaces after this page's records, as it would have.
    let following: PageRequest | undefined;
    let failure: unknown;
    try {
      following = strategy.next({ index, query: options.url, response, rows });
    } catch (e) {
      failure = e;
    }
    if (following?.followed) {
      const k = key(following);
      if (followed.has(k)) {
        const what = following.followed.kind === 'link' ? 'a next link' : 'a page token';
        incomplete(`page ${index + 1} of ${query} sent ${what} the run had already followed (a loop)`);
        following = undefined;
      } else followed.add(k);
    }
    if (following) fetching = prefetch(options.fetch, following.url);
    const announced = total && 'count' in total ? total.count : undefined;
    yield {
      index,
      response,
      rows,
      nextRequested: fetching !== undefined,
      ...(announced === undefined ? {} : { announced }),
    };
    if (failure !== undefined) throw failure;
  }
  if (!outcome.complete || !total) return;
  if ('missing' in total) incomplete(total.missing);
  else if (total.count !== outcome.rows) {
    incomplete(`the source announced ${total.count} records (${total.from}) but the run read ${outcome.rows}`);
  }
}

const key = (request: PageRequest): string => `${request.followed?.kind}\u0000${request.followed?.value}`;

/** Starts a request whose outcome is awaited later; a consumer that stops first must not see it as unhandled. */
function prefetch<R>(fetch: (url: URL) => Promise<R>, url: URL): Promise<R> {
  const response = fetch(url);
  response.catch(() => {});
  return response;
}
