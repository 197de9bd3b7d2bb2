/**
 * URL building for the REST connector. The task query is appended to the connector's base URL as the
 * seed describes (base + query, one slash between them), and paging parameters are added without
 * re-encoding what the user wrote: `URLSearchParams` would rewrite `$filter=a eq 'b'` as
 * `%24filter=a+eq+%27b%27`, which some APIs (OData among them) read differently.
 */
import { ExtractError } from '../model/errors.js';

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Joins the base URL and a query such as `/employees?active=true`. An absolute query is accepted only on
 * the base URL's origin, because the connector's credentials go with every request.
 */
export function joinUrl(baseUrl: string, query: string): URL {
  const base = new URL(baseUrl);
  if (ABSOLUTE.test(query)) {
    const absolute = new URL(query);
    assertSameOrigin(absolute, base, `query ${absolute.origin}${absolute.pathname}`);
    return absolute;
  }
  const hashAt = query.indexOf('#');
  const withoutHash = hashAt >= 0 ? query.slice(0, hashAt) : query;
  const queryAt = withoutHash.indexOf('?');
  const path = queryAt >= 0 ? withoutHash.slice(0, queryAt) : withoutHash;
  const search = queryAt >= 0 ? withoutHash.slice(queryAt + 1) : '';
  const basePath = base.pathname.replace(/\/+$/, '');
  const sub = path.replace(/^\/+/, '');
  const joinedPath = sub === '' ? base.pathname : `${basePath}/${sub}`;
  const params = [base.search.replace(/^\?/, ''), search].filter((s) => s !== '').join('&');
  return new URL(`${base.origin}${joinedPath}${params ? `?${params}` : ''}`);
}

/**
 * Returns a copy of `url` with the given parameters set: existing parameters of the same name are
 * removed, every other parameter is kept byte for byte, the new ones are form-encoded.
 */
export function withParams(url: URL, params: Record<string, string | number>): URL {
  const names = new Set(Object.keys(params));
  const kept = url.search
    .replace(/^\?/, '')
    .split('&')
    .filter((pair) => pair !== '' && !names.has(decodeParamName(pair)));
  const added = new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  const next = new URL(url.href);
  next.search = [...kept, added].filter((s) => s !== '').join('&');
  return next;
}

function decodeParamName(pair: string): string {
  const name = pair.split('=')[0].replace(/\+/g, ' ');
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Throws unless `url` is on `base`'s origin (scheme, host and port). */
export function assertSameOrigin(url: URL, base: URL, what: string): void {
  if (url.origin !== base.origin) {
    throw new ExtractError(
      `${what} is outside the connector's origin ${base.origin}; refusing to send the connector's credentials there`,
    );
  }
}

/**
 * A request as it may appear in messages and logs: method and path only. Query strings are left out
 * because they can carry API keys, page tokens and filter values.
 */
export function describeRequest(method: string, url: URL): string {
  return `${method} ${url.pathname}`;
}

/** Query parameters whose values are credentials wherever they appear (API keys, tokens, signatures). */
const SECRET_PARAM =
  /(^|_|-)(key|apikey|api_key|token|secret|password|passwd|pwd|sig|signature|auth|code|credential)s?$/i;

/**
 * The full request target for debug lines: method, path and query string with the paging parameters, the
 * values of credential-named parameters replaced by [redacted] (and, through `scrub`, any known secret value).
 */
export function describeTarget(method: string, url: URL, scrub: (text: string) => string = (t) => t): string {
  const pairs = url.search
    .replace(/^\?/, '')
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const at = pair.indexOf('=');
      const name = at >= 0 ? pair.slice(0, at) : pair;
      return at >= 0 && SECRET_PARAM.test(decodeParamName(name)) ? `${name}=[redacted]` : pair;
    });
  return scrub(`${method} ${url.pathname}${pairs.length > 0 ? `?${pairs.join('&')}` : ''}`);
}
