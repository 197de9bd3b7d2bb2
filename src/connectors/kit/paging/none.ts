/** `none`: one request, every record in its answer. */
import type { PagingStrategy } from './strategy.js';

export function noPaging(): PagingStrategy {
  return {
    first: (query) => ({ url: query }),
    next: () => undefined,
  };
}
