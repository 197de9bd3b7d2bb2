/** `startOffset`: a start index and a limit parameter (`?offset=100&limit=50`); a short page is the last. */
import { withParams } from '../../../transport/url.js';
import type { PlanOf } from './plan.js';
import type { PagingStrategy } from './strategy.js';

export function startOffsetPaging(plan: PlanOf<'startOffset'>): PagingStrategy {
  const at = (query: URL, index: number): URL =>
    withParams(query, { [plan.startParam]: plan.firstIndex + index * plan.pageSize, [plan.limitParam]: plan.pageSize });
  return {
    first: (query) => ({ url: at(query, 0) }),
    next: ({ query, index, rows }) => (rows.length < plan.pageSize ? undefined : { url: at(query, index + 1) }),
  };
}
