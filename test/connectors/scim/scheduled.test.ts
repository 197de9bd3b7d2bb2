/**
 * Scheduled SCIM runs through the real engine against a real SCIM server (SCIMMY on express 4): filters,
 * paging, the enterprise extension, memberships computed from group members (nested groups too), Basic and
 * Bearer, a filter the server refuses, and incremental reads on meta.lastModified.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Card } from '../../../src/targets/types.js';
import type { EngineFixture } from '../../engine/helpers.js';
import { captureLogger } from '../../peers/log-capture.js';
import { ScimServer } from '../../peers/scim-server.js';
import { accountMapping, ENTERPRISE, entitlementMapping, run, scimConnector, scimEngine, scimTask } from './helpers.js';

const PASSWORD = 'sc1m-pa55word';
let scim: ScimServer;
let fx: EngineFixture;
let capture: ReturnType<typeof captureLogger>;
let clock = 0;

function seed(): void {
  clock = Date.parse('2026-11-01T00:00:00.000Z');
  scim.clock = () => {
    clock += 1000;
    return new Date(clock);
  };
  for (let i = 1; i <= 25; i++) {
    scim.user({
      id: `u${i}`,
      userName: `user${i}`,
      active: i <= 13,
      emails: [{ value: `user${i}@x.com`, type: 'work' }],
      [ENTERPRISE]: { department: `D${i % 3}` },
    });
  }
  scim.group({ id: 'g2', displayName: 'app-two', members: ['u3'] });
  scim.group({ id: 'g1', displayName: 'app-one', members: ['u1', 'u2', 'g2'] });
  scim.group({ id: 'g3', displayName: 'other', members: ['u4'] });
}

const byId = (cards: Card[], key: string) => new Map(cards.map((c) => [String(c[key]), c]));

beforeAll(async () => {
  scim = await ScimServer.start({ auth: { type: 'basic', username: 'svc-provisio', password: PASSWORD } });
});
afterAll(() => scim.close());
beforeEach(() => {
  capture = captureLogger('debug');
  fx = scimEngine({ username: 'svc-provisio', password: PASSWORD, token: 'b3arer-t0ken' }, capture.log);
  seed();
});
afterEach(async () => {
  scim.reset();
  scim.auth = { type: 'basic', username: 'svc-provisio', password: PASSWORD };
  await fx.close();
});

describe('scheduled SCIM run (identityAndAccess)', () => {
  const task = () => scimTask({}, { usersFilter: 'active eq true', groupsFilter: 'displayName sw "app-"' });

  it('reads filtered users and groups page by page and loads cards with memberships', async () => {
    const r = await run(fx.deps, task(), scimConnector(scim.port));
    expect(r.reason).toBe('Succeeded');
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 15 });
    expect(r.load).toMatchObject({ status: 'Succeeded', created: 15, failed: 0 });
    const accounts = byId(await fx.cards('account'), 'user_id');
    expect(accounts.size).toBe(13);
    expect(accounts.get('u1')).toEqual({
      user_id: 'u1',
      user_name: 'user1',
      email: 'user1@x.com',
      department: 'D1',
      member_of: 'g1',
      task_id: 'iga/accounts',
    });
    // u3 is in app-two directly and in app-one through app-two (nested groups).
    expect(accounts.get('u3')?.member_of).toEqual(['g2', 'g1']);
    const groups = byId(await fx.cards('entitlement'), 'group_id');
    expect([...groups.keys()].sort()).toEqual(['g1', 'g2']);
    expect(groups.get('g1')).toMatchObject({ name: 'app-one', members: ['u1', 'u2', 'g2'] });
    const users = scim.requests.filter((q) => q.path === '/scim/v2/Users');
    expect(users.map((q) => [q.query.startIndex, q.query.count, q.query.filter])).toEqual([
      ['1', '10', 'active eq true'],
      ['1', '10', 'active eq true'],
      ['11', '10', 'active eq true'],
    ]);
  });

  it('asks for the mapped attributes only, and for every attribute when the server refuses an extension in attributes=', async () => {
    await run(fx.deps, task(), scimConnector(scim.port));
    const groups = scim.requests.find((q) => q.path === '/scim/v2/Groups');
    expect(groups?.query.attributes).toBe('id,displayName,members');
    const users = scim.requests.filter((q) => q.path === '/scim/v2/Users');
    expect(users[0].query.attributes).toBe(`id,userName,emails,${ENTERPRISE}:department,groups`);
    expect(users[1].query.attributes).toBeUndefined();
    expect(capture.entries().map((e) => e.msg)).toContain(
      `GET /Users refused attributes=id,userName,emails,${ENTERPRISE}:department,groups (GET /Users answered HTTP 400 Bad Request: invalidValue: Cannot read properties of undefined (reading 'includes')); asking for every attribute`,
    );
  });

  it('marks users gone from the server after a complete run', async () => {
    await run(fx.deps, task(), scimConnector(scim.port));
    scim.users.delete('u5');
    const r = await run(fx.deps, task(), scimConnector(scim.port));
    expect(r.load).toMatchObject({ status: 'Succeeded', deleted: 1 });
    expect(byId(await fx.cards('account'), 'user_id').get('u5')?.status).toBe('Deleted');
  });

  it('uses Bearer auth', async () => {
    scim.auth = { type: 'bearer', token: 'b3arer-t0ken' };
    const r = await run(fx.deps, task(), scimConnector(scim.port, { auth: 'bearer' }));
    expect(r.reason).toBe('Succeeded');
    expect(scim.requests.every((q) => q.authorization === 'Bearer b3arer-t0ken')).toBe(true);
  });

  it('filters on a multi-valued attribute with a value path', async () => {
    scim.user({ id: 'u99', userName: 'ext', active: true, emails: [{ value: 'ext@partner.org', type: 'work' }] });
    const r = await run(
      fx.deps,
      scimTask(
        {
          mappingsType: 'identity',
          mappings: {
            identity: {
              ...scimTask().spec.mappings!.identity!,
              attributes: [{ external: 'id', local: 'user_id', unique: true }],
            },
          },
        },
        {
          usersFilter: 'emails[type eq "work"].value ew "@partner.org"',
        },
      ),
      scimConnector(scim.port),
    );
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 1 });
    expect([...byId(await fx.cards('account'), 'user_id').keys()]).toEqual(['u99']);
    expect(scim.requests.some((q) => q.path === '/scim/v2/Groups')).toBe(false);
  });

  it('fails the run with the server detail when it refuses a filter', async () => {
    const r = await run(fx.deps, scimTask({}, { usersFilter: 'userName equals "ada"' }), scimConnector(scim.port));
    expect(r.reason).toBe('ExtractFailed');
    expect(r.extract?.info).toBe(
      `GET /Users answered HTTP 400 Bad Request: invalidFilter: Unexpected token 'equals "ada"' in filter (spec.source.scim.usersFilter: userName equals "ada"); read 3 records in 2 API calls`,
    );
  });

  it('fails with the fix when the service account is refused, never showing the password', async () => {
    fx.deps.secrets = scimEngine({ username: 'svc-provisio', password: 'wrong-pa55' }).deps.secrets;
    const r = await run(fx.deps, task(), scimConnector(scim.port));
    expect(r.reason).toBe('ExtractFailed');
    expect(r.extract?.info).toBe(
      'GET /Groups answered HTTP 401 Unauthorized: the SCIM service account was refused; check spec.scim.auth and its secret; read 0 records in 1 API call',
    );
    expect(JSON.stringify(r)).not.toContain('wrong-pa55');
  });
});

describe('incremental SCIM run', () => {
  const task = () => scimTask({ fetch: 'incremental' }, { usersFilter: 'active eq true' });

  it('keeps the highest meta.lastModified per kind and reads what changed after it', async () => {
    const first = await run(fx.deps, task(), scimConnector(scim.port));
    expect(first.extract).toMatchObject({ status: 'Succeeded', records: 16 });
    const cursors = fx.cache.meta('iga/accounts').cursors;
    expect(cursors).toEqual({ identity: '2026-11-01T00:00:13.000Z', access: '2026-11-01T00:00:28.000Z' });
    scim.requests.length = 0;
    scim.user({ ...scim.users.get('u2')!, meta: undefined, userName: 'renamed' } as never);
    const second = await run(fx.deps, task(), scimConnector(scim.port));
    expect(second.reason).toBe('Succeeded');
    expect(second.extract).toMatchObject({ status: 'Succeeded', records: 1 });
    expect(byId(await fx.cards('account'), 'user_id').get('u2')?.user_name).toBe('renamed');
    const users = scim.requests.filter((q) => q.path === '/scim/v2/Users' && q.query.startIndex === '1');
    expect(users.at(-1)?.query.filter).toBe('(active eq true) and (meta.lastModified gt "2026-11-01T00:00:13.000Z")');
    // The new cursor is u2's new lastModified; groups did not change, their cursor stays.
    expect(fx.cache.meta('iga/accounts').cursors).toEqual({
      identity: '2026-11-01T00:00:29.000Z',
      access: '2026-11-01T00:00:28.000Z',
    });
  });
});

describe('memberships the server leaves out', () => {
  it('computes group members from the users’ groups, for an access-only task', async () => {
    scim.reset();
    scim.user({ id: 'a1', userName: 'ann', groups: [{ value: 'gx', type: 'direct' }] });
    scim.user({
      id: 'a2',
      userName: 'bob',
      groups: [
        { value: 'gx', type: 'direct' },
        { value: 'gy', type: 'indirect' },
      ],
    });
    scim.group({ id: 'gx', displayName: 'app-x' });
    scim.group({ id: 'gy', displayName: 'app-y', members: [{ value: 'a9', type: 'User' }] });
    const r = await run(
      fx.deps,
      scimTask({ mappingsType: 'access', mappings: { access: entitlementMapping() } }),
      scimConnector(scim.port),
    );
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 2 });
    const groups = byId(await fx.cards('entitlement'), 'group_id');
    // gx has no members attribute: computed from direct memberships; gy's own members are kept.
    expect(groups.get('gx')?.members).toEqual(['a1', 'a2']);
    expect(groups.get('gy')?.members).toBe('a9');
    const users = scim.requests.filter((q) => q.path === '/scim/v2/Users');
    expect(users.map((q) => q.query.attributes)).toEqual(['id,userName,groups']);
  });

  it('reads group members (not loaded) for an identity-only task that maps groups', async () => {
    const r = await run(
      fx.deps,
      scimTask(
        { mappingsType: 'identity', mappings: { identity: accountMapping() } },
        { usersFilter: 'active eq true' },
      ),
      scimConnector(scim.port),
    );
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 13 });
    expect(await fx.cards('entitlement')).toEqual([]);
    expect(byId(await fx.cards('account'), 'user_id').get('u3')?.member_of).toEqual(['g2', 'g1']);
    const groups = scim.requests.filter((q) => q.path === '/scim/v2/Groups');
    expect(groups.map((q) => q.query.attributes)).toEqual(['id,displayName,members']);
  });

  it('keeps computed memberships whole in incremental runs: the group index is read in full', async () => {
    const task = scimTask({ fetch: 'incremental' });
    await run(fx.deps, task, scimConnector(scim.port));
    scim.user({ ...scim.users.get('u3')!, meta: undefined, userName: 'changed' } as never);
    scim.requests.length = 0;
    const r = await run(fx.deps, task, scimConnector(scim.port));
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 1 });
    expect(byId(await fx.cards('account'), 'user_id').get('u3')).toMatchObject({
      user_name: 'changed',
      member_of: ['g2', 'g1'],
    });
    const groups = scim.requests.filter((q) => q.path === '/scim/v2/Groups');
    expect(groups.map((q) => q.query.filter)).toEqual(['meta.lastModified gt "2026-11-01T00:00:28.000Z"', undefined]);
  });
});

describe('the SCIM peer takes writes', () => {
  it('a member added by PATCH shows in the next run', async () => {
    const task = scimTask({}, { usersFilter: 'active eq true', groupsFilter: 'displayName sw "app-"' });
    await run(fx.deps, task, scimConnector(scim.port));
    const patch = await fetch(`${scim.url}/Groups/g2`, {
      method: 'PATCH',
      headers: { Authorization: scim.expectedAuthorization(), 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: [{ value: 'u5' }] }],
      }),
    });
    expect(patch.status).toBe(200);
    const r = await run(fx.deps, task, scimConnector(scim.port));
    expect(r.load).toMatchObject({ status: 'Succeeded', updated: 2 });
    expect(byId(await fx.cards('account'), 'user_id').get('u5')?.member_of).toEqual(['g2', 'g1']);
  });
});
