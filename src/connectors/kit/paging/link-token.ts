/**
 * `linkToken`: the next page's URL, in the body (`@odata.nextLink`, `links.next`) or in the Link header
 * (rel="next"). Relative links resolve against the request that returned them (RFC 3986 §5). A link is
 * followed only on the connector's origin and never with a user name or password in it: the connector's
 * own credentials go with every request, and credentials in a link are a source (or an attacker)
 * choosing them.
 */

import { ExtractError } from '../../../model/errors.js';
import { headerValue } from '../../../transport/http-client.js';
import { assertSameOrigin, describeRequest } from '../../../transport/url.js';
import { readMarker } from '../markers.js';
import { findLink } from './link-header.js';
import type { PlanOf } from './plan.js';
import type { PagingStrategy, StrategyOptions } from './strategy.js';

export function linkTokenPaging(plan: PlanOf<'linkToken'>, options: StrategyOptions): PagingStrategy {
  return {
    first: (query) => ({ url: query, followed: { kind: 'link', value: query.href } }),
    next: ({ response, index }) => {
      const where = describeRequest('GET', response.url);
      const link = plan.linkHeader
        ? findLink(headerValue(response.headers, 'link'), 'next')
        : readMarker(response.body, plan.nextLinkPath ?? '', 'spec.rest.pagination.nextLinkPath');
      if (link === undefined || link === null || link === '') return undefined;
      if (typeof link !== 'string') {
        throw new ExtractError(`next link "${plan.nextLinkPath}" in the response from ${where} is not a string`);
      }
      let next: URL;
      try {
        next = new URL(link, response.url);
      } catch {
        throw new ExtractError(`next link in the response from ${where} is not a valid URL`);
      }
      if (next.username !== '' || next.password !== '') {
        // The message names the page, never the link: it holds the credentials.
        throw new ExtractError(
          `next link from page ${index + 1} (${where}) carries a user name or password; ` +
            'refusing to follow a link with credentials in it',
        );
      }
      assertSameOrigin(next, options.origin, `next link from ${where} (${next.origin})`);
      return { url: next, followed: { kind: 'link', value: next.href } };
    },
  };
}
