/** The REST extract against json-server@0.17.4, a real REST server in a child process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRestConnection, extractRest, restConnector } from '../../../src/connectors/rest/index.js';
import { type JsonServerPeer, numberedRows, startJsonServer } from '../../peers/json-server.js';
import { freePort } from '../../peers/ports.js';
import { collect, collectFailure, context, FAST, ids, range } from './helpers.js';

let js: JsonServerPeer;

beforeAll(async () => {
  js = await startJsonServer({ users: numberedRows(250), people: numberedRows(300), nobody: [] });
});

afterAll(async () => {
  await js?.stop();
});

describe('REST extract against json-server', () => {
  it('pages with start and offset (_start/_limit): 250 rows in order, 3 calls ending on a short page', async () => {
    const ctx = context(
      {
        baseUrl: js.url,
        pagination: { type: 'startOffset', startParam: '_start', limitParam: '_limit', pageSize: 100 },
      },
      { query: '/users' },
    );
    const rows = await collect(extractRest(ctx));
    expect(ids(rows)).toEqual(range(1, 250));
    expect(rows[0]).toEqual({ id: 1, name: 'user 1' });
    expect(ctx.progressCalls).toEqual([
      { records: 100, apiCalls: 1, total: 250 },
      { records: 200, apiCalls: 2, total: 250 },
      { records: 250, apiCalls: 3, total: 250 },
    ]);
  });

  it('needs one more call when the row count is a multiple of the page size (the empty page ends it)', async () => {
    const ctx = context(
      { baseUrl: js.url, pagination: { type: 'startOffset', startParam: '_start', limitParam: '_limit' } },
      { query: 'people' },
    );
    const rows = await collect(extractRest(ctx));
    expect(ids(rows)).toEqual(range(1, 300));
    expect(ctx.progressCalls.at(-1)).toEqual({ records: 300, apiCalls: 4, total: 300 });
  });

  it('pages by page number (_page/_limit): 250 rows, 3 calls', async () => {
    const ctx = context(
      {
        baseUrl: `${js.url}/`,
        pagination: { type: 'pageIncrement', pageParam: '_page', sizeParam: '_limit', pageSize: 100 },
      },
      { query: '/users' },
    );
    const rows = await collect(extractRest(ctx));
    expect(ids(rows)).toEqual(range(1, 250));
    expect(ctx.progressCalls.map((p) => p.apiCalls)).toEqual([1, 2, 3]);
  });

  it("keeps the task query's own query string next to the paging parameters", async () => {
    const ctx = context(
      {
        baseUrl: `${js.url}/`,
        pagination: { type: 'pageIncrement', pageParam: '_page', sizeParam: '_limit', pageSize: 20 },
      },
      { query: '/users?id_gte=201' },
    );
    const rows = await collect(extractRest(ctx));
    expect(ids(rows)).toEqual(range(201, 250));
    expect(ctx.progressCalls.map((p) => p.apiCalls)).toEqual([1, 2, 3]);
  });

  it('follows the RFC 8288 Link header (rel="next") until the last page', async () => {
    const ctx = context(
      { baseUrl: js.url, pagination: { type: 'linkToken', linkHeader: true } },
      { query: '/users?_page=1&_limit=100' },
    );
    const rows = await collect(extractRest(ctx));
    expect(ids(rows)).toEqual(range(1, 250));
    expect(ctx.progressCalls.map((p) => p.apiCalls)).toEqual([1, 2, 3]);
  });

  it('reads an empty collection with one call and no rows', async () => {
    const ctx = context(
      { baseUrl: js.url, pagination: { type: 'startOffset', startParam: '_start', limitParam: '_limit' } },
      { query: '/nobody' },
    );
    expect(await collect(extractRest(ctx))).toEqual([]);
    expect(ctx.progressCalls).toEqual([{ records: 0, apiCalls: 1, total: 0 }]);
  });

  it('stops as Incomplete at the safety threshold, without making the call that would exceed it', async () => {
    const ctx = context(
      {
        baseUrl: js.url,
        pagination: { type: 'startOffset', startParam: '_start', limitParam: '_limit', pageSize: 100 },
      },
      { query: '/users', safetyThreshold: 2 },
    );
    const { rows, error } = await collectFailure(extractRest(ctx));
    expect(ids(rows)).toEqual(range(1, 200));
    expect(error.status).toBe('Incomplete');
    expect(error.message).toBe(
      'safety threshold of 2 API calls reached before the extract finished; the data is incomplete ' +
        '(raise spec.source.rest.safetyThreshold if the API needs more calls)',
    );
  });

  it('is exactly enough when the data ends within the threshold', async () => {
    const ctx = context(
      {
        baseUrl: js.url,
        pagination: { type: 'startOffset', startParam: '_start', limitParam: '_limit', pageSize: 100 },
      },
      { query: '/users', safetyThreshold: 3 },
    );
    expect(await collect(extractRest(ctx))).toHaveLength(250);
  });

  it('is wired into restConnector.extract without pagination: one call, every row', async () => {
    const ctx = context({ baseUrl: js.url }, { query: '/users' });
    const extract = restConnector.extract;
    if (!extract) throw new Error('restConnector.extract is missing');
    expect(ids(await collect(extract(ctx)))).toEqual(range(1, 250));
    expect(ctx.progressCalls).toEqual([{ records: 250, apiCalls: 1 }]);
  });

  it('checks the connection: ok when the base URL answers, not ok when nothing listens', async () => {
    const ok = await restConnector.checkConnection?.(context({ baseUrl: `${js.url}/` }, { query: '/' }));
    expect(ok).toEqual({ ok: true, message: 'GET / answered HTTP 200 OK' });
    const port = await freePort();
    const refused = await checkRestConnection(
      context({ baseUrl: `http://127.0.0.1:${port}/api` }, { query: '/' }),
      FAST,
    );
    expect(refused).toEqual({
      ok: false,
      message: `GET /api on 127.0.0.1:${port} failed: connection refused (ECONNREFUSED)`,
    });
  });
});
