/**
 * Paging styles json-server lacks (next links in the body, Google page tokens), end-of-data guards,
 * value and error markers, and subqueries, against the purpose-built fixture server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { extractRest } from '../../../src/connectors/rest/index.js';
import { captureLogger } from '../../peers/log-capture.js';
import { RestFixtureServer } from '../../peers/rest-fixture.js';
import { collect, collectFailure, context, FAST, ids, range } from './helpers.js';

let api: RestFixtureServer;
const people = (n: number): Array<Record<string, unknown>> => range(1, n).map((i) => ({ id: i, name: `person ${i}` }));

beforeAll(async () => {
  api = await RestFixtureServer.start();
});
afterEach(() => api.reset());
afterAll(async () => {
  await api?.close();
});

describe('next link in the body (linkToken)', () => {
  it('follows absolute @odata.nextLink links, written as a plain name', async () => {
    api.collection('/odata/people', people(7), { paging: 'nextLink', pageSize: 3 });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'linkToken', nextLinkPath: '@odata.nextLink' } },
      { query: '/odata/people', valueMarker: 'value' },
    );
    expect(ids(await collect(extractRest(ctx)))).toEqual(range(1, 7));
    expect(api.calls().map((r) => r.url)).toEqual([
      '/odata/people',
      '/odata/people?cursor=1',
      '/odata/people?cursor=2',
    ]);
  });

  it("accepts the bracket form ['@odata.nextLink'] too", async () => {
    api.collection('/odata/people', people(4), { paging: 'nextLink', pageSize: 2 });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'linkToken', nextLinkPath: "['@odata.nextLink']" } },
      { query: '/odata/people', valueMarker: 'value' },
    );
    expect(ids(await collect(extractRest(ctx)))).toEqual(range(1, 4));
  });

  it('resolves relative links.next against the request URL under a base path', async () => {
    api.collection('/api/v2/people', people(5), {
      paging: 'nextLink',
      pageSize: 2,
      marker: 'data',
      linkAt: ['links', 'next'],
      relativeLinks: true,
    });
    const ctx = context(
      { baseUrl: `${api.url}/api/v2/`, pagination: { type: 'linkToken', nextLinkPath: 'links.next' } },
      { query: '/people?active=true', valueMarker: 'data' },
    );
    expect(ids(await collect(extractRest(ctx)))).toEqual(range(1, 5));
    expect(api.calls().map((r) => r.url)).toEqual([
      '/api/v2/people?active=true',
      '/api/v2/people?active=true&cursor=1',
      '/api/v2/people?active=true&cursor=2',
    ]);
  });

  it('refuses a next link to another origin', async () => {
    api.collection('/odata/people', people(4), {
      paging: 'nextLink',
      pageSize: 2,
      linkOrigin: 'http://evil.example.com',
    });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'linkToken', nextLinkPath: '@odata.nextLink' } },
      { query: '/odata/people', valueMarker: 'value' },
    );
    const { rows, error } = await collectFailure(extractRest(ctx));
    expect(ids(rows)).toEqual([1, 2]);
    expect(error.status).toBe('Failed');
    expect(error.message).toBe(
      `next link from GET /odata/people (http://evil.example.com) is outside the connector's origin ${api.url}; ` +
        "refusing to send the connector's credentials there",
    );
    expect(api.calls()).toHaveLength(1);
  });

  it('stops at a next link seen before (a loop), reading every page once, and declares the extract incomplete', async () => {
    api.collection('/odata/people', people(7), { paging: 'nextLink', pageSize: 3, loop: true });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'linkToken', nextLinkPath: '@odata.nextLink' } },
      { query: '/odata/people', valueMarker: 'value' },
    );
    const extraction = extractRest(ctx);
    expect(ids(await collect(extraction))).toEqual(range(1, 7));
    expect(api.calls()).toHaveLength(3);
    expect(extraction.outcome()).toEqual({
      complete: false,
      reason:
        'page 3 of GET /odata/people sent a next link the run had already followed (a loop): deletion marking skipped',
    });
  });

  it('refuses a next link with a user name and password, naming the page but not the credentials', async () => {
    api.route('GET', '/odata/people', (req) => {
      const cursor = Number(req.query.get('cursor') ?? 0);
      const host = new URL(api.url).host;
      return {
        json: {
          value: people(6).slice(cursor * 2, cursor * 2 + 2),
          '@odata.nextLink': cursor === 0 ? `http://alice:s3cr3t-pw@${host}/odata/people?cursor=1` : undefined,
        },
      };
    });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'linkToken', nextLinkPath: '@odata.nextLink' } },
      { query: '/odata/people', valueMarker: 'value' },
    );
    const { rows, error } = await collectFailure(extractRest(ctx));
    expect(ids(rows)).toEqual([1, 2]);
    expect(error.status).toBe('Failed');
    expect(error.message).toBe(
      'next link from page 1 (GET /odata/people) carries a user name or password; ' +
        'refusing to follow a link with credentials in it',
    );
    expect(error.message).not.toContain('s3cr3t-pw');
    expect(error.message).not.toContain('alice');
    expect(api.calls()).toHaveLength(1);
  });
});

describe('Google-style page tokens (linkAttributeToken)', () => {
  it('variant google pages with nextPageToken / pageToken by default, keeping the query string', async () => {
    api.collection('/admin/users', people(5), { paging: 'token', pageSize: 2, marker: 'users' });
    const ctx = context(
      { baseUrl: api.url, variant: 'google' },
      { query: '/admin/users?customer=my_customer', valueMarker: 'users' },
    );
    expect(ids(await collect(extractRest(ctx)))).toEqual(range(1, 5));
    expect(api.calls().map((r) => r.url)).toEqual([
      '/admin/users?customer=my_customer',
      '/admin/users?customer=my_customer&pageToken=tok-1',
      '/admin/users?customer=my_customer&pageToken=tok-2',
    ]);
  });

  it('uses custom token path and parameter names', async () => {
    api.collection('/items', people(3), {
      paging: 'token',
      pageSize: 2,
      marker: 'results',
      tokenField: 'continuation',
      params: { token: 'after' },
    });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'linkAttributeToken', tokenPath: 'continuation', tokenParam: 'after' } },
      { query: '/items', valueMarker: 'results' },
    );
    expect(ids(await collect(extractRest(ctx)))).toEqual(range(1, 3));
    expect(api.calls().map((r) => r.url)).toEqual(['/items', '/items?after=tok-1']);
  });

  it('stops at a token seen before and declares the extract incomplete', async () => {
    api.collection('/admin/users', people(6), { paging: 'token', pageSize: 2, marker: 'users', loop: true });
    const ctx = context({ baseUrl: api.url, variant: 'google' }, { query: '/admin/users', valueMarker: 'users' });
    const extraction = extractRest(ctx);
    expect(ids(await collect(extraction))).toEqual(range(1, 6));
    expect(api.calls()).toHaveLength(3);
    expect(extraction.outcome()).toEqual({
      complete: false,
      reason:
        'page 3 of GET /admin/users sent a page token the run had already followed (a loop): deletion marking skipped',
    });
  });
});

describe('end of data for offset and page styles', () => {
  it('uses the default parameter names offset/limit and page/size', async () => {
    api.collection('/by-offset', people(5), { paging: 'offset' });
    api.collection('/by-page', people(5), { paging: 'page' });
    const offset = context(
      { baseUrl: api.url, pagination: { type: 'startOffset', pageSize: 2 } },
      { query: '/by-offset' },
    );
    const page = context(
      { baseUrl: api.url, pagination: { type: 'pageIncrement', pageSize: 2 } },
      { query: '/by-page' },
    );
    expect(ids(await collect(extractRest(offset)))).toEqual(range(1, 5));
    expect(ids(await collect(extractRest(page)))).toEqual(range(1, 5));
    expect(api.calls().map((r) => r.url)).toEqual([
      '/by-offset?offset=0&limit=2',
      '/by-offset?offset=2&limit=2',
      '/by-offset?offset=4&limit=2',
      '/by-page?page=1&size=2',
      '/by-page?page=2&size=2',
      '/by-page?page=3&size=2',
    ]);
  });

  it('honours firstIndex and firstPage', async () => {
    api.route('GET', '/one-based', (req) => ({ json: people(3).slice(Number(req.query.get('offset')) - 1) }));
    api.collection('/zero-based', people(3), { paging: 'page', firstPage: 0 });
    const offset = context(
      { baseUrl: api.url, pagination: { type: 'startOffset', firstIndex: 1, pageSize: 5 } },
      { query: '/one-based' },
    );
    const page = context(
      { baseUrl: api.url, pagination: { type: 'pageIncrement', firstPage: 0, pageSize: 2 } },
      { query: '/zero-based' },
    );
    expect(ids(await collect(extractRest(offset)))).toEqual([1, 2, 3]);
    expect(ids(await collect(extractRest(page)))).toEqual([1, 2, 3]);
    expect(api.calls().map((r) => r.url)).toEqual([
      '/one-based?offset=1&limit=5',
      '/zero-based?page=0&size=2',
      '/zero-based?page=1&size=2',
    ]);
  });

  it('stops as incomplete when the API repeats its last page forever', async () => {
    api.collection('/stuck', people(6), { paging: 'offset', repeatLastPage: true });
    const ctx = context({ baseUrl: api.url, pagination: { type: 'startOffset', pageSize: 3 } }, { query: '/stuck' });
    const extraction = extractRest(ctx);
    expect(ids(await collect(extraction))).toEqual(range(1, 6));
    expect(api.calls()).toHaveLength(3);
    expect(extraction.outcome()).toEqual({
      complete: false,
      reason:
        'page 3 of GET /stuck repeated page 2 (the source seems to ignore the paging parameters): deletion marking skipped',
    });
  });

  it('stops as incomplete when an API ignores the page parameter altogether and the page is full', async () => {
    api.collection('/unpaged', people(3), { paging: 'none' });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'pageIncrement', pageSize: 3 } },
      { query: '/unpaged' },
    );
    const extraction = extractRest(ctx);
    expect(ids(await collect(extraction))).toEqual([1, 2, 3]);
    expect(api.calls()).toHaveLength(2);
    expect(extraction.outcome()).toEqual({
      complete: false,
      reason:
        'page 2 of GET /unpaged repeated page 1 (the source seems to ignore the paging parameters): deletion marking skipped',
    });
  });

  it('declares an extract that ended on a short page complete', async () => {
    api.collection('/by-offset', people(5), { paging: 'offset' });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'startOffset', pageSize: 2 } },
      { query: '/by-offset' },
    );
    const extraction = extractRest(ctx);
    expect(ids(await collect(extraction))).toEqual(range(1, 5));
    expect(extraction.outcome()).toEqual({ complete: true });
  });
});

describe('value and error markers, bodies', () => {
  it('reads the rows at a dotted value marker', async () => {
    api.route('GET', '/wrapped', () => ({ json: { data: { items: people(2) }, count: 2 } }));
    const ctx = context({ baseUrl: api.url }, { query: '/wrapped', valueMarker: 'data.items' });
    expect(await collect(extractRest(ctx))).toEqual(people(2));
  });

  it('fails when the value marker is missing from a 2xx body', async () => {
    api.route('GET', '/wrapped', () => ({ json: { rows: [] } }));
    const ctx = context({ baseUrl: api.url }, { query: '/wrapped', valueMarker: 'resultset' });
    const { error } = await collectFailure(extractRest(ctx));
    expect(error.status).toBe('Failed');
    expect(error.message).toBe('response from GET /wrapped has no "resultset" (valueMarker)');
  });

  it('fails when there is no value marker and the body is not an array', async () => {
    api.route('GET', '/wrapped', () => ({ json: { resultset: [] } }));
    const ctx = context({ baseUrl: api.url }, { query: '/wrapped' });
    const { error } = await collectFailure(extractRest(ctx));
    expect(error.message).toBe(
      'response from GET /wrapped is an object, not an array of records; ' +
        'set spec.source.rest.valueMarker to the property that holds the records',
    );
  });

  it('fails when a record is not an object', async () => {
    api.route('GET', '/scalars', () => ({ json: [{ id: 1 }, 'two'] }));
    const { error } = await collectFailure(extractRest(context({ baseUrl: api.url }, { query: '/scalars' })));
    expect(error.message).toBe('record 2 of the response from GET /scalars is not an object');
  });

  it('fails on the page that carries the error marker, after streaming the pages before it', async () => {
    api.collection('/employees', people(5), {
      paging: 'offset',
      marker: 'resultset',
      extra: { errors: null },
      errorOnPage: { page: 1, field: 'errors', value: [{ code: 'E42', message: 'backend unavailable' }] },
    });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'startOffset', pageSize: 2 } },
      { query: '/employees', valueMarker: 'resultset', errorMarker: 'errors' },
    );
    const { rows, error } = await collectFailure(extractRest(ctx));
    expect(ids(rows)).toEqual([1, 2]);
    expect(error.status).toBe('Failed');
    expect(error.message).toBe(
      'response from GET /employees has an error at "errors" (errorMarker): [{"code":"E42","message":"backend unavailable"}]',
    );
  });

  it('treats an empty or null error marker as no error', async () => {
    api.route('GET', '/ok', () => ({ json: { resultset: people(1), errors: [], warnings: null } }));
    const a = context({ baseUrl: api.url }, { query: '/ok', valueMarker: 'resultset', errorMarker: 'errors' });
    const b = context({ baseUrl: api.url }, { query: '/ok', valueMarker: 'resultset', errorMarker: 'warnings' });
    expect(await collect(extractRest(a))).toEqual(people(1));
    expect(await collect(extractRest(b))).toEqual(people(1));
  });

  it('fails on truncated JSON with the parser reason', async () => {
    api.collection('/employees', people(3), { paging: 'none' });
    api.fault('/employees', { kind: 'truncate' });
    const { error } = await collectFailure(extractRest(context({ baseUrl: api.url }, { query: '/employees' })));
    expect(error.status).toBe('Failed');
    expect(error.message).toMatch(/^response from GET \/employees is not valid JSON: \S/);
    expect(api.calls()).toHaveLength(1);
  });

  it('fails on a 4xx at once, quoting the answer', async () => {
    const { error } = await collectFailure(
      extractRest(context({ baseUrl: api.url }, { query: '/nothing?secret=x' }), FAST),
    );
    expect(error.message).toBe('GET /nothing failed: HTTP 404 Not Found: {"error":"no route for GET /nothing"}');
    expect(api.calls()).toHaveLength(1);
  });
});

describe('streaming', () => {
  it('requests the next page while the consumer is still on the current one', async () => {
    api.collection('/employees', people(6), { paging: 'offset' });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'startOffset', pageSize: 2 } },
      { query: '/employees' },
    );
    const seen: unknown[] = [];
    let callsWhileOnFirstRecord = 0;
    for await (const record of extractRest(ctx)) {
      seen.push(record.data.id);
      if (seen.length === 1) {
        // The consumer holds the first record; the source gets the request for page 2 meanwhile.
        const deadline = Date.now() + 5_000;
        while (api.calls().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        callsWhileOnFirstRecord = api.calls().length;
      }
    }
    expect(callsWhileOnFirstRecord).toBe(2);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    // No request beyond what sequential paging makes: three full pages and the empty one that ends it.
    expect(api.calls().map((r) => r.url)).toEqual([
      '/employees?offset=0&limit=2',
      '/employees?offset=2&limit=2',
      '/employees?offset=4&limit=2',
      '/employees?offset=6&limit=2',
    ]);
    // Progress counts the calls of the pages handed over, not the one already out for the next page.
    expect(ctx.progressCalls.map((p) => p.apiCalls)).toEqual([1, 2, 3, 4]);
  });

  it('reads at most one page ahead, and nothing more once the consumer stops', async () => {
    api.collection('/employees', people(10), { paging: 'offset' });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'startOffset', pageSize: 2 } },
      { query: '/employees' },
    );
    const seen: unknown[] = [];
    for await (const record of extractRest(ctx)) {
      seen.push(record.data.id);
      if (seen.length === 3) break;
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([1, 2, 3]);
    expect(api.calls().length).toBeGreaterThanOrEqual(2);
    expect(api.calls().length).toBeLessThanOrEqual(3);
  });
});

describe('headers', () => {
  it('sends connector and task headers and Accept on every call, and no Content-Type on GETs', async () => {
    api.collection('/employees', people(3), { paging: 'offset' });
    const ctx = context(
      {
        baseUrl: api.url,
        headers: { 'X-Tenant': 'acme', 'X-Both': 'connector' },
        pagination: { type: 'startOffset', pageSize: 2 },
      },
      { query: '/employees', headers: { 'x-both': 'task', 'X-Trace': 't1' } },
    );
    await collect(extractRest(ctx));
    expect(api.calls()).toHaveLength(2);
    for (const call of api.calls()) {
      expect(call.headers['x-tenant']).toBe('acme');
      expect(call.headers['x-both']).toBe('task');
      expect(call.headers['x-trace']).toBe('t1');
      expect(call.headers.accept).toBe('application/json');
      expect(call.headers['content-type']).toBeUndefined();
    }
  });
});

describe('subqueries', () => {
  const employees = [
    { id: 'a/b', name: 'Slash' },
    { id: 'with space', name: 'Space' },
    { name: 'No id' },
    { id: 7, name: 'Number' },
  ];
  const groupsOf = (id: string): unknown[] => [{ name: `group of ${id}` }];

  it('adds each subquery result under its template, URL-encoding {attr}, in source order', async () => {
    api.collection('/employees', employees, { paging: 'none', marker: 'resultset' });
    api.route('GET', '/employees/:id/groups', (_req, p) => ({ json: { resultset: groupsOf(p.id) } }));
    api.route('GET', '/employees/:id', (_req, p) => ({ json: { id: p.id, manager: 'boss' } }));
    // The first row's subquery answers last; rows must still come out in source order.
    api.fault('/employees/a%2Fb/groups', { kind: 'delay', ms: 150 });
    const ctx = context(
      { baseUrl: api.url },
      { query: '/employees', valueMarker: 'resultset', subqueries: ['/employees/{id}/groups', '/employees/{id}'] },
    );
    const rows = await collect(extractRest(ctx));
    expect(rows).toEqual([
      {
        id: 'a/b',
        name: 'Slash',
        '/employees/{id}/groups': [{ name: 'group of a/b' }],
        '/employees/{id}': { id: 'a/b', manager: 'boss' },
      },
      {
        id: 'with space',
        name: 'Space',
        '/employees/{id}/groups': [{ name: 'group of with space' }],
        '/employees/{id}': { id: 'with space', manager: 'boss' },
      },
      { name: 'No id', '/employees/{id}/groups': null, '/employees/{id}': null },
      {
        id: 7,
        name: 'Number',
        '/employees/{id}/groups': [{ name: 'group of 7' }],
        '/employees/{id}': { id: '7', manager: 'boss' },
      },
    ]);
    expect(
      api
        .calls()
        .map((r) => r.url)
        .sort(),
    ).toEqual([
      '/employees',
      '/employees/7',
      '/employees/7/groups',
      '/employees/a%2Fb',
      '/employees/a%2Fb/groups',
      '/employees/with%20space',
      '/employees/with%20space/groups',
    ]);
    expect(ctx.progressCalls).toEqual([{ records: 4, apiCalls: 7 }]);
  });

  it('pages subqueries with the connector pagination and concatenates their pages', async () => {
    api.collection('/teams', [{ id: 1 }, { id: 2 }], { paging: 'offset' });
    api.route('GET', '/teams/:id/members', (req, p) => {
      const members = range(1, 5).map((m) => ({ team: Number(p.id), member: m }));
      const offset = Number(req.query.get('offset'));
      return { json: members.slice(offset, offset + Number(req.query.get('limit'))) };
    });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'startOffset', pageSize: 2 } },
      { query: '/teams', subqueries: ['/teams/{id}/members'] },
    );
    const rows = await collect(extractRest(ctx));
    expect(rows.map((r) => (r['/teams/{id}/members'] as Array<{ member: number }>).map((m) => m.member))).toEqual([
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
    ]);
    // Main page 1, then 3 pages per team (2 + 2 + 1 members); then the empty main page 2 ends the run.
    expect(ctx.progressCalls).toEqual([
      { records: 2, apiCalls: 7 },
      { records: 2, apiCalls: 8 },
    ]);
  });

  it('counts subqueries against the safety threshold and never makes the call beyond it', async () => {
    api.collection('/employees', [{ id: 1 }, { id: 2 }, { id: 3 }], { paging: 'none' });
    api.route('GET', '/employees/:id/groups', () => ({ json: [] }));
    const ctx = context(
      { baseUrl: api.url },
      { query: '/employees', subqueries: ['/employees/{id}/groups'], safetyThreshold: 3 },
    );
    const { rows, error } = await collectFailure(extractRest(ctx));
    expect(error.status).toBe('Incomplete');
    expect(error.message).toBe(
      'safety threshold of 3 API calls reached before the extract finished; the data is incomplete ' +
        '(raise spec.source.rest.safetyThreshold if the API needs more calls)',
    );
    expect(rows).toEqual([
      { id: 1, '/employees/{id}/groups': [] },
      { id: 2, '/employees/{id}/groups': [] },
    ]);
    expect(api.calls()).toHaveLength(3);
  });

  it('fails the run when a subquery answer carries the error marker', async () => {
    api.collection('/employees', [{ id: 1 }], { paging: 'none' });
    api.route('GET', '/employees/:id/groups', () => ({ json: { errors: 'group service down' } }));
    const ctx = context(
      { baseUrl: api.url },
      { query: '/employees', subqueries: ['/employees/{id}/groups'], errorMarker: 'errors' },
    );
    const { error } = await collectFailure(extractRest(ctx));
    expect(error.message).toBe(
      'response from GET /employees/1/groups has an error at "errors" (errorMarker): group service down',
    );
  });
});

describe('paging anomalies the extract tells apart', () => {
  it('follows a next link on an empty page: the source says there is more', async () => {
    api.route('GET', '/sparse', (req) => {
      const cursor = Number(req.query.get('cursor') ?? 0);
      const value = cursor === 1 ? [] : people(4).slice(cursor === 0 ? 0 : 2, cursor === 0 ? 2 : 4);
      const next = cursor < 2 ? `${api.url}/sparse?cursor=${cursor + 1}` : undefined;
      return { json: { value, '@odata.nextLink': next } };
    });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'linkToken', nextLinkPath: '@odata.nextLink' } },
      { query: '/sparse', valueMarker: 'value' },
    );
    const extraction = extractRest(ctx);
    expect(ids(await collect(extraction))).toEqual([1, 2, 3, 4]);
    expect(api.calls().map((r) => r.url)).toEqual(['/sparse', '/sparse?cursor=1', '/sparse?cursor=2']);
    expect(extraction.outcome()).toEqual({ complete: true });
  });

  it('reads a total from a numeric string at totalPath and declares a matching extract complete', async () => {
    api.collection('/counted', people(5), { paging: 'offset', marker: 'items', extra: { meta: { total: '5' } } });
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'startOffset', pageSize: 2, totalPath: 'meta.total' } },
      { query: '/counted', valueMarker: 'items' },
    );
    const extraction = extractRest(ctx);
    expect(ids(await collect(extraction))).toEqual(range(1, 5));
    expect(extraction.outcome()).toEqual({ complete: true });
  });

  it('keeps a subquery that repeats its page to a warning: which records exist is not in doubt', async () => {
    const capture = captureLogger();
    api.collection('/staff', people(2), { paging: 'page' });
    // The groups endpoint ignores the paging parameters and always answers with the same full page.
    api.route('GET', '/staff/:id/groups', () => ({ json: [{ name: 'a' }, { name: 'b' }] }));
    const ctx = context(
      { baseUrl: api.url, pagination: { type: 'pageIncrement', pageSize: 2 } },
      { query: '/staff', subqueries: ['/staff/{id}/groups'] },
      { log: capture.log },
    );
    const extraction = extractRest(ctx);
    const rows = await collect(extraction);
    expect(rows.map((r) => r['/staff/{id}/groups'])).toEqual([
      [{ name: 'a' }, { name: 'b' }],
      [{ name: 'a' }, { name: 'b' }],
    ]);
    expect(extraction.outcome()).toEqual({ complete: true });
    expect(
      capture
        .entries()
        .filter((e) => e.level === 40)
        .map((e) => e.msg),
    ).toEqual([
      'REST subquery stopped early: page 2 of GET /staff/1/groups repeated page 1 (the source seems to ignore the paging parameters)',
      'REST subquery stopped early: page 2 of GET /staff/2/groups repeated page 1 (the source seems to ignore the paging parameters)',
    ]);
  });
});
