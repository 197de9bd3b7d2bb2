/**
 * `linkAttributeToken`: a next-page token in the body (`nextPageToken`), sent back as a query parameter
 * (`pageToken`) on the query URL, Google style.
 */
import { ExtractError } from '../../../model/errors.js';
import { describeRequest, withParams } from '../../../transport/url.js';
import { readMarker } from '../markers.js';
import type { PlanOf } from './plan.js';
import type { PagingStrategy } from './strategy.js';

export function linkAttributeTokenPaging(plan: PlanOf<'linkAttributeToken'>): PagingStrategy {
  return {
    first: (query) => ({ url: query }),
    next: ({ query, response }) => {
      const token = readMarker(response.body, plan.tokenPath, 'spec.rest.pagination.tokenPath');
      if (token === undefined || token === null || token === '') return undefined;
      if (typeof token !== 'string' && typeof token !== 'number') {
        throw new ExtractError(
          `page token "${plan.tokenPath}" in the response from ${describeRequest('GET', response.url)} is not a string`,
        );
      }
      return {
        url: withParams(query, { [plan.tokenParam]: String(token) }),
        followed: { kind: 'token', value: String(token) },
      };
    },
  };
}
