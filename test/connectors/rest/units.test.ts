// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${key} and ${token} are the schema's login placeholders
/** The pure helpers of the REST connector: durations, URLs, Link headers, Retry-After, markers, placeholders. */
import { describe, expect, it } from 'vitest';
import { findLink, parseLinkHeader } from '../../../src/connectors/kit/paging/link-header.js';
import { expandSubquery, mapOrdered } from '../../../src/connectors/kit/subqueries.js';
import { mergeHeaders } from '../../../src/connectors/rest/api.js';
import { fillLoginBody } from '../../../src/connectors/rest/auth.js';
import { pagingPlan } from '../../../src/connectors/rest/config.js';
import { checkErrorMarker, readMarker, selectRows, selectSubqueryValue } from '../../../src/connectors/rest/records.js';
import { ExtractError } from '../../../src/connectors/types.js';
import { backoffMs, DEFAULT_RETRY, retryAfterMs } from '../../../src/transport/http-client.js';
import { excerpt, SecretScrubber } from '../../../src/transport/scrub.js';
import { joinUrl, withParams } from '../../../src/transport/url.js';

describe('joinUrl', () => {
  it('joins with exactly one slash', () => {
    expect(joinUrl('https://hr.example.com/api/', '/employees').href).toBe('https://hr.example.com/api/employees');
    expect(joinUrl('https://hr.example.com/api', 'employees').href).toBe('https://hr.example.com/api/employees');
    expect(joinUrl('https://hr.example.com', '/employees').href).toBe('https://hr.example.com/employees');
    expect(joinUrl('https://hr.example.com/api//', '//employees').href).toBe('https://hr.example.com/api/employees');
  });

  it("keeps the query's query string as written, after the base URL's", () => {
    expect(joinUrl('https://hr.example.com/api/?tenant=1', "/users?$filter=name eq 'x'").href).toBe(
      'https://hr.example.com/api/users?tenant=1&$filter=name%20eq%20%27x%27',
    );
  });

  it('accepts an absolute query on the same origin only', () => {
    expect(joinUrl('https://hr.example.com/api', 'https://hr.example.com/v2/users').href).toBe(
      'https://hr.example.com/v2/users',
    );
    expect(() => joinUrl('https://hr.example.com/api', 'https://other.example.com/users')).toThrow(
      "query https://other.example.com/users is outside the connector's origin https://hr.example.com",
    );
  });
});

describe('withParams', () => {
  it('adds encoded parameters, replaces same-named ones and keeps the rest byte for byte', () => {
    const url = new URL('https://x.test/users?$filter=a%20eq%20%27b%27&limit=5');
    expect(withParams(url, { limit: 10, offset: 0, token: 'a b&c' }).search).toBe(
      '?$filter=a%20eq%20%27b%27&limit=10&offset=0&token=a+b%26c',
    );
  });
});

describe('Link header', () => {
  it('finds rel="next" among several links, with commas and semicolons inside URLs', () => {
    const header =
      '<https://x.test/a?p=1,2;3>; rel="first", <https://x.test/a?p=2>; title="x, y"; rel="prev next", <https://x.test/a?p=9>; rel=last';
    expect(parseLinkHeader(header).map((l) => l.url)).toEqual([
      'https://x.test/a?p=1,2;3',
      'https://x.test/a?p=2',
      'https://x.test/a?p=9',
    ]);
    expect(findLink(header, 'next')).toBe('https://x.test/a?p=2');
    expect(findLink(header, 'last')).toBe('https://x.test/a?p=9');
    expect(findLink('<https://x.test/a>; rel="prev"', 'next')).toBeUndefined();
    expect(findLink(undefined, 'next')).toBeUndefined();
  });
});

describe('Retry-After and backoff', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds and HTTP dates, capped', () => {
    expect(retryAfterMs('2', 60_000, now)).toBe(2000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', 60_000, now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', 60_000, now)).toBe(0);
    expect(retryAfterMs('3600', 60_000, now)).toBe(60_000);
    expect(retryAfterMs('soon', 60_000, now)).toBeUndefined();
    expect(retryAfterMs(undefined, 60_000, now)).toBeUndefined();
  });

  it('doubles the delay per attempt with jitter, up to the maximum', () => {
    for (let i = 0; i < 50; i++) {
      const first = backoffMs(1, DEFAULT_RETRY);
      const fourth = backoffMs(4, DEFAULT_RETRY);
      expect(first).toBeGreaterThanOrEqual(250);
      expect(first).toBeLessThanOrEqual(500);
      expect(fourth).toBeGreaterThanOrEqual(2000);
      expect(fourth).toBeLessThanOrEqual(4000);
      expect(backoffMs(20, DEFAULT_RETRY)).toBeLessThanOrEqual(DEFAULT_RETRY.maxDelayMs);
    }
  });
});

describe('markers', () => {
  it('reads a literal key with dots before trying it as a path', () => {
    expect(readMarker({ '@odata.nextLink': 'n' }, '@odata.nextLink', 'f')).toBe('n');
    expect(readMarker({ '@odata.nextLink': 'n' }, "['@odata.nextLink']", 'f')).toBe('n');
    expect(readMarker({ links: { next: '/p2' } }, 'links.next', 'f')).toBe('/p2');
    expect(() => readMarker({}, "a['b", 'spec.x')).toThrow(ExtractError);
  });

  it('selects rows; no content is an empty page', () => {
    expect(selectRows([{ id: 1 }], undefined, 'GET /x')).toEqual([{ id: 1 }]);
    expect(selectRows({ d: { results: [1] } }, 'd.results', 'GET /x')).toEqual([1]);
    expect(selectRows(null, 'resultset', 'GET /x')).toEqual([]);
    expect(selectRows({ resultset: null }, 'resultset', 'GET /x')).toEqual([]);
    expect(() => selectRows({ resultset: 'x' }, 'resultset', 'GET /x')).toThrow(
      '"resultset" (valueMarker) in the response from GET /x is a string, not an array',
    );
  });

  it('takes the value marker of a subquery answer only when it is there', () => {
    expect(selectSubqueryValue({ resultset: [1] }, 'resultset')).toEqual([1]);
    expect(selectSubqueryValue({ id: 1 }, 'resultset')).toEqual({ id: 1 });
    expect(selectSubqueryValue([1, 2], 'resultset')).toEqual([1, 2]);
  });

  it('fails on a present error marker, quoting it truncated', () => {
    expect(() => checkErrorMarker({ errors: 'x'.repeat(500) }, 'errors', 'GET /x')).toThrow(
      `response from GET /x has an error at "errors" (errorMarker): ${'x'.repeat(300)}…`,
    );
    for (const none of [undefined, null, false, '', [], {}]) {
      expect(() => checkErrorMarker({ errors: none }, 'errors', 'GET /x')).not.toThrow();
    }
  });
});

describe('subquery templates', () => {
  it('URL-encodes first-level scalar attributes and reports a missing one', () => {
    expect(expandSubquery('/employees/{id}/groups', { id: 'a/b c' })).toEqual({ query: '/employees/a%2Fb%20c/groups' });
    expect(expandSubquery('/employees/{id}', { id: 42 })).toEqual({ query: '/employees/42' });
    expect(expandSubquery('/employees/{id}', { name: 'x' })).toEqual({ missing: 'id' });
    expect(expandSubquery('/employees/{id}', { id: { nested: 1 } })).toEqual({ missing: 'id' });
    expect(expandSubquery('/employees/{id}', { id: null })).toEqual({ missing: 'id' });
  });

  it('maps with bounded concurrency and yields in input order', async () => {
    let running = 0;
    let peak = 0;
    const fn = async (n: number): Promise<number> => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, (10 - n) * 3));
      running--;
      return n * 10;
    };
    const out: number[] = [];
    for await (const v of mapOrdered([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, fn)) out.push(v);
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(peak).toBe(3);
  });
});

describe('login body placeholders', () => {
  const secret = { client_id: 'app', client_secret: 'a&b=c "d"\\' };
  const missing = (k: string): never => {
    throw new Error(`missing ${k}`);
  };
  it('form-encodes for form bodies and JSON-escapes for JSON bodies', () => {
    expect(
      fillLoginBody('id=${client_id}&secret=${client_secret}', secret, 'application/x-www-form-urlencoded', missing),
    ).toBe('id=app&secret=a%26b%3Dc%20%22d%22%5C');
    const json = fillLoginBody('{"secret":"${client_secret}"}', secret, 'application/json', missing);
    expect(JSON.parse(json)).toEqual({ secret: secret.client_secret });
    expect(() => fillLoginBody('${nope}', secret, 'application/json', missing)).toThrow('missing nope');
  });
});

describe('SecretScrubber', () => {
  it('redacts values in their plain, URL, form and JSON forms, ignoring very short ones', () => {
    const s = new SecretScrubber();
    s.add('p@ss word"1');
    s.add('abc');
    expect(s.scrub('a p@ss word"1 b p%40ss%20word%221 c p%40ss+word%221 d p@ss word\\"1 abc')).toBe(
      'a [redacted] b [redacted] c [redacted] d [redacted] abc',
    );
  });

  it('shortens long text', () => {
    expect(excerpt(`a\n  b ${'x'.repeat(10)}`, 6)).toBe('a b xx…');
  });
});

describe('configuration', () => {
  it('fills paging defaults from the schema', () => {
    expect(pagingPlan({ baseUrl: 'https://x', pagination: { type: 'startOffset' } })).toEqual({
      type: 'startOffset',
      startParam: 'offset',
      limitParam: 'limit',
      firstIndex: 0,
      pageSize: 100,
    });
    expect(pagingPlan({ baseUrl: 'https://x', pagination: { type: 'pageIncrement' } })).toEqual({
      type: 'pageIncrement',
      pageParam: 'page',
      sizeParam: 'size',
      firstPage: 1,
      pageSize: 100,
    });
    expect(pagingPlan({ baseUrl: 'https://x', variant: 'google' })).toEqual({
      type: 'linkAttributeToken',
      tokenPath: 'nextPageToken',
      tokenParam: 'pageToken',
    });
    expect(pagingPlan({ baseUrl: 'https://x' })).toEqual({ type: 'none' });
    expect(() => pagingPlan({ baseUrl: 'https://x', pagination: { type: 'linkToken' } })).toThrow(
      'spec.rest.pagination: linkToken paging needs nextLinkPath or linkHeader: true',
    );
  });

  it('merges headers case-insensitively, later maps winning', () => {
    expect(mergeHeaders({ Accept: 'a' }, { accept: 'b', 'X-A': '1' }, undefined, { 'x-a': '2' })).toEqual({
      accept: 'b',
      'x-a': '2',
    });
  });
});
