/**
 * One paging style: how the first page is asked for, and how the next request follows from a response
 * and its rows. The loop around it (prefetching, anomaly detection, totals) is paginate.ts; each style
 * lives in its own file and is chosen by strategies.ts.
 */

/** What a strategy sees of a response: any connector's API response has these. */
export interface PageResponse {
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A request to make, and what identifies it when the source chose it (a next link or a page token). */
export interface PageRequest {
  url: URL;
  /**
   * The link or token the source sent for this request. The loop refuses one seen before: a source that
   * sends the run in a circle would otherwise repeat pages until the safety threshold.
   */
  followed?: { kind: 'link' | 'token'; value: string };
}

export interface PageContext {
  /** 0 for the first page. */
  index: number;
  /** The query's URL before paging parameters. */
  query: URL;
  response: PageResponse;
  rows: readonly unknown[];
}

export interface PagingStrategy {
  /** The first page's request for a query URL. */
  first(query: URL): PageRequest;
  /**
   * The request for the page after this one, or undefined when this style sees the end of the data (no
   * next link or token, a page shorter than the page size). Throws ExtractError for a link or token it
   * must not follow.
   */
  next(page: PageContext): PageRequest | undefined;
}

export interface StrategyOptions {
  /** Next links must stay on this origin: the connector's credentials go with them. */
  origin: URL;
}
