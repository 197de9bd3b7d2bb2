/**
 * The REST connector's pages: the kit's paging loop (connectors/kit/paging/paginate.ts) with the strategy
 * of the connector's pagination type and the session's counted GET. See paginate.ts for how the end of
 * data is detected and what makes a paging incomplete.
 */
import { type Page as KitPage, type Paging, paginate as paginatePages } from '../kit/paging/paginate.js';
import { pagingStrategy } from '../kit/paging/strategies.js';
import type { TotalReader } from '../kit/paging/totals.js';
import type { ApiResponse, RestApi } from './api.js';
import type { PagingPlan } from './config.js';

export type Page = KitPage<ApiResponse>;

export interface PaginateOptions {
  api: RestApi;
  plan: PagingPlan;
  /** The query's URL before paging parameters. */
  url: URL;
  /** Next links must stay on this origin: the connector's credentials go with them. */
  origin: URL;
  /** Extracts the records of a response; may throw (the main query insists on an array). */
  rows: (response: ApiResponse) => unknown[] | undefined;
  /** The total the source announces on its first page (main queries only). */
  total?: TotalReader;
}

export function paginate(options: PaginateOptions): Paging<ApiResponse> {
  const { api } = options;
  return paginatePages<ApiResponse>({
    strategy: pagingStrategy(options.plan, { origin: options.origin }),
    url: options.url,
    fetch: (url) => api.getJson(url),
    rows: options.rows,
    total: options.total,
  });
}
