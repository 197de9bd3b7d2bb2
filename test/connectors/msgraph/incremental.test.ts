/**
 * Incremental Microsoft Graph runs through delta rounds against the simulator: the first run reads everything
 * and keeps a deltaLink per kind; later runs read what changed (re-read in full through $batch, so cards keep
 * the attributes a round left out), mark `@removed` and objects that stop matching the filter deleted at once,
 * keep group members up to date, follow empty pages, and resync a kind whose token expired.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../../src/model/resources.js';
import type { Card } from '../../../src/targets/types.js';
import type { EngineFixture } from '../../engine/helpers.js';
import { GraphSimulator } from '../../peers/msgraph/index.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { createTestPki, type TestPki } from '../../peers/tls.js';
import {
  accountMapping,
  CLIENT_ID,
  CLIENT_SECRET,
  entitlementMapping,
  graphConnector,
  graphEngine,
  graphTask,
  run,
  seedTenant,
  TENANT,
} from './helpers.js';

let pki: TestPki;
let sim: GraphSimulator;
let secrets: SecretsDir;
let fx: EngineFixture;

const byId = (cards: Card[]) => new Map(cards.map((c) => [String(c.object_id), c]));

function task(source: NonNullable<Task['spec']['source']>['msgraph'] = {}): Task {
  return graphTask(
    {
      fetch: 'incremental',
      mappings: {
        identity: accountMapping(),
        access: entitlementMapping([{ external: 'members', local: 'members', references: 'identity' }]),
      },
    },
    { usersFilter: 'accountEnabled eq true', ...source },
  );
}

beforeAll(async () => {
  pki = await createTestPki();
  sim = await GraphSimulator.start(pki, { tenantId: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  secrets = await createSecretsDir({
    'entra-app': { clientSecret: CLIENT_SECRET },
    'entra-ca': { 'ca.crt': pki.caCert },
  });
});
afterAll(async () => {
  await sim.close();
  await secrets.cleanup();
  await pki.cleanup();
});
beforeEach(() => {
  fx = graphEngine(secrets);
  seedTenant(sim);
});
afterEach(async () => {
  sim.reset();
  sim.dir.users.clear();
  sim.dir.groups.clear();
  sim.dir.members.clear();
  sim.deltaPageSize = 100;
  sim.memberChunk = 50;
  sim.deltaEmptyPages = 0;
  sim.deltaExpiry = 'syncStateNotFound';
  await fx.close();
});

describe('incremental (delta)', () => {
  it('reads everything in the first round, merging a group split over pages, and keeps a deltaLink per kind', async () => {
    sim.deltaPageSize = 2;
    sim.memberChunk = 1;
    const connector = graphConnector(sim);
    const r = await run(fx.deps, task(), connector);
    expect(r.reason).toBe('Succeeded');
    expect(byId(await fx.cards('account')).size).toBe(9);
    const groups = byId(await fx.cards('entitlement'));
    expect(groups.get('g-sales')?.members).toEqual(['u2', 'u4', 'g-nested']);
    expect(groups.get('g-all')?.members).toEqual(['u1', 'u2', 'u3']);
    const cursors = fx.cache.meta('iga/entra-accounts').cursors;
    expect(cursors.identity).toMatch(new RegExp(`^${sim.url}/v1.0/users/delta\\?\\$deltatoken=`));
    expect(cursors.access).toMatch(new RegExp(`^${sim.url}/v1.0/groups/delta\\?\\$deltatoken=`));
    const first = sim.graphCalls('/v1.0/users/delta')[0];
    expect(first.query.get('$select')).toBe('id,userPrincipalName,displayName,department,accountEnabled');
    expect(sim.graphCalls('/v1.0/groups/delta')[0].query.get('$select')).toBe('id,displayName,securityEnabled,members');
    // No users or groups lists: everything came from the delta rounds.
    expect(sim.graphCalls('/v1.0/users').filter((q) => q.path === '/v1.0/users')).toHaveLength(0);
  });

  it('merges changed properties into the card, never clearing those the round left out', async () => {
    const connector = graphConnector(sim);
    await run(fx.deps, task(), connector);
    sim.reset();
    sim.dir.updateUser('u2', { department: 'Marketing' });
    sim.dir.updateUser('u8', { givenName: 'not selected: no change surfaces' });
    const r = await run(fx.deps, task(), connector);
    expect(r.reason).toBe('Succeeded');
    expect(r.extract?.records).toBe(1);
    expect(byId(await fx.cards('account')).get('u2')).toEqual({
      object_id: 'u2',
      upn: 'user2@acme.example.com',
      display_name: 'User 2',
      department: 'Marketing',
      enabled: true,
      task_id: 'iga/entra-accounts',
    });
    // The round's page plus one $batch for the changed user.
    expect(
      sim
        .graphCalls()
        .filter((q) => !q.batched)
        .map((q) => `${q.method} ${q.path}`),
    ).toEqual(['GET /v1.0/groups/delta', 'GET /v1.0/users/delta', 'POST /v1.0/$batch']);
  });

  it('marks @removed users and users that stop matching the filter deleted at once', async () => {
    const connector = graphConnector(sim);
    await run(fx.deps, task(), connector);
    sim.dir.deleteUser('u5');
    sim.dir.updateUser('u6', { accountEnabled: false });
    sim.dir.updateUser('u10', { accountEnabled: true });
    const r = await run(fx.deps, task(), connector);
    expect(r.reason).toBe('Succeeded');
    expect(r.load?.deleted).toBe(2);
    const accounts = byId(await fx.cards('account'));
    expect(accounts.get('u5')?.status).toBe('Deleted');
    expect(accounts.get('u6')?.status).toBe('Deleted');
    expect(accounts.get('u10')).toMatchObject({ enabled: true, upn: 'user10@acme.example.com' });
    // u5 left sg-it when it was deleted: the group's members are read again.
    expect(byId(await fx.cards('entitlement')).get('g-it')?.members).toEqual(['u1', 'u3']);
  });

  it('keeps group members up to date from members@delta and follows empty pages to the deltaLink', async () => {
    const connector = graphConnector(sim);
    await run(fx.deps, task(), connector);
    sim.reset();
    sim.deltaEmptyPages = 2;
    sim.dir.addMember('g-sales', 'u9');
    sim.dir.removeMember('g-sales', 'u2');
    sim.dir.deleteGroup('g-all');
    const r = await run(fx.deps, task(), connector);
    expect(r.reason).toBe('Succeeded');
    const groups = byId(await fx.cards('entitlement'));
    expect(groups.get('g-sales')).toMatchObject({
      name: 'sg-sales',
      security: true,
      members: ['u4', 'g-nested', 'u9'],
    });
    expect(groups.get('g-all')?.status).toBe('Removed');
    const rounds = sim.graphCalls('/v1.0/groups/delta');
    expect(rounds.map((q) => q.query.has('$skiptoken'))).toEqual([false, true, true]);
    expect(fx.cache.meta('iga/entra-accounts').cursors.access).toContain('$deltatoken=');
  });

  for (const expiry of ['syncStateNotFound', 'gone'] as const) {
    it(`reads a kind in full once when its delta token expired (${expiry}) and marks what it missed`, async () => {
      const connector = graphConnector(sim);
      await run(fx.deps, task(), connector);
      sim.deltaExpiry = expiry;
      sim.expireDeltaTokens();
      // Deleted long ago: no later round reports it; the full round must notice it is gone.
      sim.dir.users.delete('u7');
      const r = await run(fx.deps, task(), connector);
      expect(r.reason).toBe('Succeeded');
      expect(r.load?.info).toContain('access records read in full: Graph no longer knows the groups delta token');
      expect(r.load?.info).toContain('identity records read in full: Graph no longer knows the users delta token');
      expect(byId(await fx.cards('account')).get('u7')?.status).toBe('Deleted');
      expect(fx.cache.meta('iga/entra-accounts').cursors.identity).toContain('$deltatoken=');
    });
  }

  it('keeps the cursors through a cache clear and resets them only on clear-cache --cursor', async () => {
    const connector = graphConnector(sim);
    await run(fx.deps, task(), connector);
    fx.cache.requestClear('iga/entra-accounts');
    sim.reset();
    expect((await run(fx.deps, task(), connector)).reason).toBe('Succeeded');
    expect(sim.graphCalls('/v1.0/users/delta')[0].query.has('$deltatoken')).toBe(true);
    fx.cache.requestClear('iga/entra-accounts', { cursors: true });
    sim.reset();
    const r = await run(fx.deps, task(), connector);
    expect(r.reason).toBe('Succeeded');
    expect(r.extract?.records).toBe(13);
    expect(sim.graphCalls('/v1.0/users/delta')[0].query.has('$deltatoken')).toBe(false);
    expect(fx.cache.meta('iga/entra-accounts')).toMatchObject({ clearRequested: false, cursorResetRequested: false });
  });
});
