/**
 * (restCall of the REST and SCIM types) The URL of an event call: connector base URL + task `event.query` + the call's URL (digest §4.9), joined
 * with exactly one slash and keeping every query string. The connector's credentials go with the request, so
 * the result must stay on the base URL's origin and under its path. Everything that could lead elsewhere is
 * refused rather than "repaired": user info, other hosts, ports or schemes, scheme-relative URLs, backslashes,
 * whitespace and control characters (which URL parsers drop or reinterpret), and `..` / `%2e%2e` segments that
 * climb out of the base path. The WHATWG parser normalizes first, so the check sees what undici will send.
 * Encoded dots and slashes (`%2e`, `%2f`) in the path of a template as written are refused outright: a server or
 * proxy behind the connector may decode them after our check (`/..%2f..%2foauth/token`). Values substituted from
 * `data` are encoded afterwards and stay data.
 */
import { InvalidInvocationError } from '../../types.js';

/** `scheme://…`, or `http:`/`https:` without slashes, which WHATWG also reads as absolute. */
const ABSOLUTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|https?:)/i;
const BACKSLASH = /\\/;
const WHITESPACE_OR_CONTROL = /[\s\x00-\x1f\x7f]/;
const LEADING_SLASHES = /^\/+/;
const TRAILING_SLASHES = /\/+$/;

export const isAbsoluteUrl = (text: string): boolean => ABSOLUTE.test(text);

/** The connector's base URL and the path every call must stay under ('' for the root). */
export interface UrlBase {
  base: URL;
  basePath: string;
}

export function urlBase(base: URL): UrlBase {
  return { base, basePath: base.pathname.replace(TRAILING_SLASHES, '') };
}

const ENCODED_DOT_OR_SLASH = /%2e|%2f/i;

/**
 * The problem with encoded dots or slashes in the path of a URL template as written (the query string and
 * fragment may carry them: they are values there), or undefined. Shared by validation and invocation.
 */
export function encodedPathProblem(text: string, field: string): string | undefined {
  const path = text.split(/[?#]/, 1)[0];
  const found = ENCODED_DOT_OR_SLASH.exec(path);
  if (!found) return undefined;
  const what = found[0].toLowerCase() === '%2e' ? '"."' : '"/"';
  return (
    `${field} contains ${found[0]} (an encoded ${what}) in its path; an encoded dot or slash can lead out of ` +
    "the connector's base path once a server decodes it (such as /..%2f..%2foauth/token): write the path plainly"
  );
}

/** Checks a URL template as written (before substitution, whose values are percent-encoded anyway). */
export function checkUrlText(text: string, field: string, { base }: UrlBase): void {
  const encoded = encodedPathProblem(text, field);
  if (encoded) throw new InvalidInvocationError(encoded);
  if (BACKSLASH.test(text)) {
    throw new InvalidInvocationError(`${field} must not contain a backslash; URL parsers read it as a slash`);
  }
  if (WHITESPACE_OR_CONTROL.test(text)) {
    throw new InvalidInvocationError(
      `${field} must not contain spaces, tabs, line breaks or control characters; write a space as %20`,
    );
  }
  if (text.startsWith('//')) {
    throw new InvalidInvocationError(
      `${field} starts with "//", a scheme-relative URL that names another host; ` +
        `use a path such as /users/42 or an absolute URL on ${base.origin}`,
    );
  }
}

/** Parses an absolute URL and refuses it unless it is on the connector's origin and under its base path. */
export function checkAbsolute(text: string, field: string, where: UrlBase): URL {
  const { base } = where;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInvocationError(`${field} is not a valid URL`);
  }
  const refuse = (problem: string): never => {
    throw new InvalidInvocationError(`${field} ${problem}; refusing to send the connector's credentials there`);
  };
  if (url.username !== '' || url.password !== '') {
    refuse('carries user info (text and "@" before the host); the connector\'s auth supplies credentials');
  }
  if (url.protocol !== base.protocol) {
    refuse(`uses ${url.protocol.slice(0, -1)} but the connector's base URL uses ${base.protocol.slice(0, -1)}`);
  }
  if (url.host !== base.host) refuse(`points to ${url.host}, outside the connector's origin ${base.origin}`);
  assertUnderBase(url, field, where);
  return url;
}

/** Throws unless the (normalized) path is the base path or below it. */
export function assertUnderBase(url: URL, field: string, { base, basePath }: UrlBase): void {
  const path = url.pathname;
  if (url.origin !== base.origin || (basePath !== '' && path !== basePath && !path.startsWith(`${basePath}/`))) {
    throw new InvalidInvocationError(
      `${field} resolves to ${path}, outside the connector's base path ${basePath}/; ` +
        "refusing to send the connector's credentials there",
    );
  }
}

/** Appends a relative reference (`users/1`, `/users/1?x=1`, `?x=1`, '') to a prefix URL. */
export function joinRelative(prefix: URL, relative: string): URL {
  const hashAt = relative.indexOf('#');
  const withoutHash = hashAt < 0 ? relative : relative.slice(0, hashAt);
  const queryAt = withoutHash.indexOf('?');
  const path = queryAt < 0 ? withoutHash : withoutHash.slice(0, queryAt);
  const search = queryAt < 0 ? '' : withoutHash.slice(queryAt + 1);
  const joinedPath =
    path === ''
      ? prefix.pathname
      : `${prefix.pathname.replace(TRAILING_SLASHES, '')}/${path.replace(LEADING_SLASHES, '')}`;
  const params = [prefix.search.slice(1), search].filter((s) => s !== '').join('&');
  return new URL(`${prefix.origin}${joinedPath}${params ? `?${params}` : ''}`);
}

/** The prefix of every call of a task: the base URL with `event.query` appended (or replacing it, if absolute). */
export function taskPrefix(where: UrlBase, query: string | undefined): URL {
  if (!query) return where.base;
  const field = 'spec.event.query';
  checkUrlText(query, field, where);
  const prefix = isAbsoluteUrl(query) ? checkAbsolute(query, field, where) : joinRelative(where.base, query);
  assertUnderBase(prefix, field, where);
  return prefix;
}

/** The final URL of a call from its substituted URL; an absolute one replaces the prefix (digest §4.9). */
export function callUrl(where: UrlBase, prefix: URL, url: string): URL {
  const field = 'input.url';
  const result = isAbsoluteUrl(url) ? checkAbsolute(url, field, where) : joinRelative(prefix, url);
  assertUnderBase(result, field, where);
  return result;
}
