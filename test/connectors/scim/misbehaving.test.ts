/**
 * What SCIMMY does not do, from a purpose-built list server: itemsPerPage that lies, a page cap below the
 * requested count, totals that change mid-run, pages that end before totalResults, 429 and 503 with
 * Retry-After, no filter support, and a 400 to meta.lastModified filters. Full runs through the engine.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../../src/model/resources.js';
import type { EngineFixture } from '../../engine/helpers.js';
import { captureLogger } from '../../peers/log-capture.js';
import { MisbehavingScim } from '../../peers/misbehaving-scim.js';
import { run, scimConnector, scimEngine, scimTask } from './helpers.js';

let scim: MisbehavingScim;
let fx: EngineFixture;
let capture: ReturnType<typeof captureLogger>;

const users = (n: number, modified = '2026-11-01T00:00:00.000Z') =>
  Array.from({ length: n }, (_, i) => ({
    id: `u${i + 1}`,
    userName: `user${i + 1}`,
    meta: { lastModified: modified.replace('00:00:00', `00:00:${String(i % 60).padStart(2, '0')}`) },
  }));

const task = (spec: Partial<Task['spec']> = {}): Task =>
  scimTask({
    mappingsType: 'identity',
    mappings: {
      identity: {
        template: 'account',
        taskIdAttribute: 'task_id',
        onDeleted: { attribute: 'status', value: 'Deleted' },
        attributes: [
          { external: 'id', local: 'user_id', unique: true },
          { external: 'userName', local: 'user_name' },
        ],
      },
    },
    ...spec,
  });
const connector = () => scimConnector(scim.port, { pageSize: 10 });
const starts = () => scim.requests.filter((r) => r.path === '/Users').map((r) => r.query.get('startIndex'));

beforeAll(async () => {
  scim = await MisbehavingScim.start();
});
afterAll(() => scim.close());
beforeEach(() => {
  capture = captureLogger('debug');
  fx = scimEngine({ username: scim.username, password: scim.password }, capture.log);
});
afterEach(async () => {
  scim.reset();
  await fx.close();
});

describe('paging against a misbehaving SCIM server', () => {
  it('ignores itemsPerPage: counts the Resources received', async () => {
    scim.users = users(25);
    scim.behaviour = { itemsPerPage: 1000 };
    const r = await run(fx.deps, task(), connector());
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 25 });
    expect(starts()).toEqual(['1', '11', '21']);
  });

  it('follows a page cap below the requested count to the announced total', async () => {
    scim.users = users(25);
    scim.behaviour = { pageCap: 7 };
    const r = await run(fx.deps, task(), connector());
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 25 });
    expect(starts()).toEqual(['1', '8', '15', '22']);
    expect(scim.requests.every((q) => q.path !== '/Users' || q.query.get('count') === '10')).toBe(true);
  });

  it('is Incomplete when pages end before totalResults, and marks nothing deleted', async () => {
    scim.users = users(25);
    await run(fx.deps, task(), connector());
    scim.behaviour = { emptyFrom: 11 };
    const r = await run(fx.deps, task(), connector());
    expect(r.reason).toBe('ExtractIncomplete');
    expect(r.extract).toMatchObject({ status: 'Incomplete', records: 10 });
    expect(r.extract?.info).toContain(
      'GET /Users stopped at 10 of the 25 users the server announced (totalResults): deletion marking skipped',
    );
    expect(r.load?.deleted).toBe(0);
    expect((await fx.cards('account')).filter((c) => c.status === 'Deleted')).toHaveLength(0);
  });

  it('is Incomplete when totalResults changes while the run reads the pages', async () => {
    scim.users = users(25);
    scim.behaviour = { totalDrift: 1 };
    const r = await run(fx.deps, task(), connector());
    expect(r.reason).toBe('ExtractIncomplete');
    expect(r.extract?.info).toContain(
      "GET /Users: the server's totalResults changed from 25 to 28 while the run read the pages: deletion marking skipped",
    );
  });

  it('is Incomplete when the server ignores startIndex and repeats its first page', async () => {
    scim.users = users(25);
    scim.behaviour = { ignoreStartIndex: true };
    const r = await run(fx.deps, task(), connector());
    expect(r.reason).toBe('ExtractIncomplete');
    expect(r.extract?.records).toBe(10);
    expect(r.extract?.info).toContain(
      'page 2 of GET /scim/v2/Users repeated page 1 (the source seems to ignore the paging parameters): deletion marking skipped',
    );
  });

  it('waits as Retry-After says on 429 and 503, then goes on', async () => {
    scim.users = users(5);
    scim.behaviour = { throttle: { status: 429, times: 1, retryAfter: '1' } };
    const r = await run(fx.deps, task(), connector());
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 5 });
    const [refused, retried] = scim.requests;
    expect(retried.at - refused.at).toBeGreaterThanOrEqual(950);
    const retries = capture.entries().filter((e) => e.msg === 'retrying SCIM request');
    expect(retries.map((e) => [e.request, e.attempt, e.delayMs, e.reason])).toEqual([
      [
        'GET /scim/v2/Users',
        1,
        1000,
        'HTTP 429 Too Many Requests: {"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"slow dow…',
      ],
    ]);
    scim.reset();
    scim.users = users(5);
    scim.behaviour = { throttle: { status: 503, times: 2, retryAfter: '0' } };
    const again = await run(fx.deps, task(), connector());
    expect(again.extract).toMatchObject({ status: 'Succeeded', records: 5 });
    expect(scim.requests).toHaveLength(3);
  });
});

describe('incremental reads where the server cannot filter on meta.lastModified', () => {
  const incremental = () => task({ fetch: 'incremental' });

  it('reads full (ResyncRequired) when the ServiceProviderConfig has no filter support, and marks what it missed', async () => {
    scim.users = users(12);
    await run(fx.deps, incremental(), connector());
    expect(fx.cache.meta('iga/accounts').cursors).toEqual({ identity: '2026-11-01T00:00:11.000Z' });
    scim.behaviour = { filterSupported: false };
    scim.users = scim.users.filter((u) => u.id !== 'u4');
    scim.requests.length = 0;
    const r = await run(fx.deps, incremental(), connector());
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 11 });
    expect(r.load).toMatchObject({ status: 'Succeeded', deleted: 1 });
    expect(scim.requests.map((q) => q.path)).toEqual(['/ServiceProviderConfig', '/Users', '/Users']);
    expect(scim.requests[1].query.get('filter')).toBeNull();
    expect(capture.entries().map((e) => e.msg)).toContain(
      'the source cannot continue the identity records from where the last run ended (the SCIM server does not support filters (ServiceProviderConfig filter.supported is not true)): reading them in full',
    );
  });

  it('reads full (ResyncRequired) when the server answers 400 to the meta.lastModified filter', async () => {
    scim.users = users(12);
    await run(fx.deps, incremental(), connector());
    scim.behaviour = { refuseLastModified: true };
    scim.requests.length = 0;
    const r = await run(fx.deps, incremental(), connector());
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 12 });
    expect(scim.requests.map((q) => q.query.get('filter'))).toEqual([
      null,
      'meta.lastModified gt "2026-11-01T00:00:11.000Z"',
      null,
      null,
    ]);
    expect(capture.entries().map((e) => e.msg)).toContain(
      'the source cannot continue the identity records from where the last run ended (GET /Users refused the filter on meta.lastModified: GET /Users answered HTTP 400 Bad Request: invalidFilter: Filtering on meta.lastModified is not supported): reading them in full',
    );
  });

  it('reads only what changed where it can', async () => {
    scim.users = users(12);
    await run(fx.deps, incremental(), connector());
    scim.users[3] = { ...scim.users[3], userName: 'renamed', meta: { lastModified: '2026-11-02T00:00:00.000Z' } };
    scim.requests.length = 0;
    const r = await run(fx.deps, incremental(), connector());
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 1 });
    expect(scim.requests[1].query.get('filter')).toBe('meta.lastModified gt "2026-11-01T00:00:11.000Z"');
    expect(fx.cache.meta('iga/accounts').cursors).toEqual({ identity: '2026-11-02T00:00:00.000Z' });
  });
});

describe('a stored cursor that is not a time', () => {
  it('is dropped (ResyncRequired): the kind is read in full and a new cursor stored', async () => {
    scim.users = users(3);
    const t = task({ fetch: 'incremental' });
    await run(fx.deps, t, connector());
    fx.cache.setCursors('iga/accounts', { identity: 'not-a-time' });
    scim.requests.length = 0;
    const r = await run(fx.deps, t, connector());
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 3 });
    expect(scim.requests.map((q) => q.query.get('filter'))).toEqual([null, null]);
    expect(fx.cache.meta('iga/accounts').cursors).toEqual({ identity: '2026-11-01T00:00:02.000Z' });
    expect(capture.entries().map((e) => e.msg)).toContain(
      'the source cannot continue the identity records from where the last run ended (the stored cursor "not-a-time" is not a meta.lastModified time): reading them in full',
    );
  });
});
