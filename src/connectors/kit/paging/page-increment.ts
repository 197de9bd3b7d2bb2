/** `pageIncrement`: a page number and a page size parameter (`?page=3&size=50`); a short page is the last. */
import { withParams } from '../../../transport/url.js';
import type { PlanOf } from './plan.js';
import type { PagingStrategy } from './strategy.js';

export function pageIncrementPaging(plan: PlanOf<'pageIncrement'>): PagingStrategy {
  const at = (query: URL, index: number): URL =>
    withParams(query, { [plan.pageParam]: plan.firstPage + index, [plan.sizeParam]: plan.pageSize });
  return {
    first: (query) => ({ url: at(query, 0) }),
    next: ({ query, index, rows }) => (rows.length < plan.pageSize ? undefined : { url: at(query, index + 1) }),
  };
}
