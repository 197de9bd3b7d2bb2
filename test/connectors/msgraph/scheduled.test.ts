/**
 * Scheduled full runs of the Microsoft Graph connector through the real engine, the real MSAL and the shared
 * transport against the Graph simulator over HTTPS (its CA trusted through tls.caSecretRef): users, groups and
 * memberships, $select and $top, filters in both forms (advanced queries get their header), exclusions,
 * paging, throttling, expired tokens, and Entra's refusals in admin words.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Card } from '../../../src/targets/types.js';
import type { EngineFixture } from '../../engine/helpers.js';
import { captureLogger } from '../../peers/log-capture.js';
import { createAppCertificate, GraphSimulator } from '../../peers/msgraph/index.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { createTestPki, type TestPki } from '../../peers/tls.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
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
let capture: ReturnType<typeof captureLogger>;

const byId = (cards: Card[]) => new Map(cards.map((c) => [String(c.object_id), c]));

beforeAll(async () => {
  pki = await createTestPki();
  const cert = await createAppCertificate();
  sim = await GraphSimulator.start(pki, {
    tenantId: TENANT,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    certificate: cert.certificate,
  });
  secrets = await createSecretsDir({
    'entra-app': { clientSecret: CLIENT_SECRET },
    'entra-app-cert': { certificate: cert.certificate, privateKey: cert.privateKey },
    'entra-ca': { 'ca.crt': pki.caCert },
  });
});
afterAll(async () => {
  await sim.close();
  await secrets.cleanup();
  await pki.cleanup();
});
beforeEach(() => {
  capture = captureLogger('debug');
  fx = graphEngine(secrets, capture.log);
  seedTenant(sim);
});
afterEach(async () => {
  sim.reset();
  sim.dir.users.clear();
  sim.dir.groups.clear();
  sim.dir.members.clear();
  sim.pageCap = 999;
  await fx.close();
});

describe('full run (identityAndAccess)', () => {
  const task = () =>
    graphTask({}, { usersFilter: 'accountEnabled eq true', groupsFilter: "startsWith(displayName,'sg-')" });

  it('reads filtered users and groups with $select and $top=999 and links accounts to entitlements', async () => {
    const r = await run(fx.deps, task(), graphConnector(sim));
    expect(r.reason).toBe('Succeeded');
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 12 });
    const accounts = byId(await fx.cards('account'));
    expect(accounts.size).toBe(9);
    expect(accounts.get('u2')).toEqual({
      object_id: 'u2',
      upn: 'user2@acme.example.com',
      display_name: 'User 2',
      department: 'Sales',
      enabled: true,
      member_of: ['g-sales'],
      task_id: 'iga/entra-accounts',
    });
    // u3 is a direct member of sg-nested and sg-it; sg-nested is nested in sg-sales (the group's memberOf).
    expect(accounts.get('u3')?.member_of).toEqual(['g-nested', 'g-it']);
    expect(accounts.get('u7')?.member_of).toEqual([]);
    const groups = byId(await fx.cards('entitlement'));
    expect([...groups.keys()].sort()).toEqual(['g-it', 'g-nested', 'g-sales']);
    expect(groups.get('g-nested')).toMatchObject({ name: 'sg-nested', security: true, member_of: ['g-sales'] });
    const users = sim.graphCalls('/v1.0/users').filter((q) => q.path === '/v1.0/users');
    expect(users).toHaveLength(1);
    expect(users[0].query.get('$select')).toBe('id,userPrincipalName,displayName,department,accountEnabled');
    expect(users[0].query.get('$top')).toBe('999');
    expect(users[0].query.get('$filter')).toBe('accountEnabled eq true');
    expect(users[0].headers.consistencylevel).toBeUndefined();
    const groupList = sim.graphCalls('/v1.0/groups').filter((q) => q.path === '/v1.0/groups');
    expect(groupList[0].query.get('$select')).toBe('id,displayName,securityEnabled');
    // One members read per group, never more.
    const memberReads = sim.graphCalls('/v1.0/groups/').map((q) => q.path);
    expect(memberReads.sort()).toEqual([
      '/v1.0/groups/g-it/members',
      '/v1.0/groups/g-nested/members',
      '/v1.0/groups/g-sales/members',
    ]);
    expect(sim.logins).toEqual([{ clientId: CLIENT_ID, method: 'secret' }]);
  });

  it('follows every @odata.nextLink when Graph serves smaller pages', async () => {
    sim.pageCap = 4;
    const r = await run(fx.deps, task(), graphConnector(sim));
    expect(r.reason).toBe('Succeeded');
    expect((await fx.cards('account')).length).toBe(9);
    const pages = sim.graphCalls('/v1.0/users').filter((q) => q.path === '/v1.0/users');
    expect(pages.map((q) => q.query.has('$skiptoken'))).toEqual([false, true, true]);
  });

  it('sends the seeds’ query-string filters as advanced queries with ConsistencyLevel: eventual and says so', async () => {
    const t = graphTask(
      { mappingsType: 'identity' },
      { usersFilter: "$count=true&$filter=endsWith(mail,'@acme.example.com') and accountEnabled eq true" },
    );
    const r = await run(fx.deps, t, graphConnector(sim));
    expect(r.reason).toBe('Succeeded');
    expect([...byId(await fx.cards('account')).keys()].sort()).toEqual(
      ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9'].sort(),
    );
    const call = sim.graphCalls('/v1.0/users').find((q) => q.path === '/v1.0/users');
    expect(call?.headers.consistencylevel).toBe('eventual');
    expect(call?.query.get('$count')).toBe('true');
    expect(r.extract?.info).toContain(
      'usersFilter is an advanced query (endsWith): sent with ConsistencyLevel: eventual and $count=true',
    );
  });

  it('reads a $search query string with the header it needs', async () => {
    const t = graphTask({ mappingsType: 'identity' }, { usersFilter: '$search="displayName:User 1"' });
    const r = await run(fx.deps, t, graphConnector(sim));
    expect(r.reason).toBe('Succeeded');
    expect([...byId(await fx.cards('account')).keys()].sort()).toEqual(['u1', 'u10', 'u11', 'u12']);
  });

  it('applies excludedUsers, excludedGroups and includeMembersOf before mapping and counts them', async () => {
    const t = graphTask(
      {},
      {
        usersFilter: 'accountEnabled eq true',
        excludedUsers: ['USER1@acme.example.com', 'u4'],
        excludedGroups: ['all-staff', 'g-it'],
        includeMembersOf: ['g-sales', 'g-it'],
      },
    );
    const r = await run(fx.deps, t, graphConnector(sim));
    expect(r.reason).toBe('Succeeded');
    // Members of sg-sales (u2, u4, and u3 through sg-nested) and sg-it (u1, u3, u5), minus u1 and u4.
    expect([...byId(await fx.cards('account')).keys()].sort()).toEqual(['u2', 'u3', 'u5']);
    expect([...byId(await fx.cards('entitlement')).keys()].sort()).toEqual(['g-nested', 'g-sales']);
    expect(r.extract?.info).toContain('2 groups excluded (excludedGroups)');
    expect(r.extract?.info).toContain('2 users excluded (excludedUsers)');
    expect(r.extract?.info).toContain('4 users skipped: not members of includeMembersOf');
  });

  it('signs in with a certificate (PS256 assertion with x5t#S256 and x5c)', async () => {
    const r = await run(fx.deps, task(), graphConnector(sim, 'certificate'));
    expect(r.reason).toBe('Succeeded');
    expect(sim.logins).toEqual([{ clientId: CLIENT_ID, method: 'certificate' }]);
  });

  it('reuses the token of the connector’s credential in the next run, and fetches a new one after a 401', async () => {
    const connector = graphConnector(sim);
    expect((await run(fx.deps, task(), connector)).reason).toBe('Succeeded');
    expect((await run(fx.deps, task(), connector)).reason).toBe('Succeeded');
    expect(sim.logins).toHaveLength(1);
    sim.expireTokens();
    const r = await run(fx.deps, task(), connector);
    expect(r.reason).toBe('Succeeded');
    expect(sim.logins).toHaveLength(2);
    expect(sim.requests.filter((q) => q.status === 401)).toHaveLength(1);
  });
});

describe('throttling and failures', () => {
  const task = () => graphTask({}, { usersFilter: 'accountEnabled eq true' });

  it('waits out 429 and 503 with Retry-After, on Graph and on the token endpoint, and counts them', async () => {
    sim.fault({ path: /oauth2\/v2\.0\/token/, status: 503, retryAfter: 0, times: 1 });
    sim.fault({ path: /^\/v1\.0\/users\?/, status: 429, retryAfter: 0, times: 2 });
    sim.fault({ path: /^\/v1\.0\/groups\/g-it\/members/, status: 503, retryAfter: 0, times: 1 });
    const r = await run(fx.deps, task(), graphConnector(sim));
    expect(r.reason).toBe('Succeeded');
    expect((await fx.cards('account')).length).toBe(9);
    expect(r.extract?.info).toContain('3 throttled Graph calls waited out (Retry-After)');
    expect(capture.text()).toContain('retrying token request');
  });

  it('names the AADSTS code and the key to fix for a wrong client secret', async () => {
    secrets.write('entra-app-wrong', { clientSecret: 'not-the-secret' });
    const c = graphConnector(sim);
    c.spec.msgraph = { ...c.spec.msgraph!, auth: { type: 'secret', secretRef: { name: 'entra-app-wrong' } } };
    const r = await run(fx.deps, task(), c);
    expect(r.reason).toBe('ExtractFailed');
    expect(r.extract?.info).toContain('(invalid_client): AADSTS7000215: Invalid client secret provided.');
    expect(r.extract?.info).toContain('update key clientSecret of secret "entra-app-wrong"');
    expect(r.extract?.info).not.toContain('not-the-secret');
  });

  it('names an unknown app registration and an unknown tenant', async () => {
    const app = graphConnector(sim);
    app.spec.msgraph = { ...app.spec.msgraph!, clientId: 'aaaaaaaa-0000-0000-0000-000000000000' };
    const r1 = await run(fx.deps, task(), app);
    expect(r1.extract?.info).toContain('AADSTS700016');
    expect(r1.extract?.info).toContain('check spec.msgraph.clientId and tenantId');
    const tenant = graphConnector(sim);
    tenant.spec.msgraph = { ...tenant.spec.msgraph!, tenantId: 'contoso.onmicrosoft.com' };
    const r2 = await run(fx.deps, task(), tenant);
    expect(r2.extract?.info).toContain('AADSTS90002');
    expect(r2.extract?.info).toContain('check spec.msgraph.tenantId');
  });

  it('says the certificate is not the app registration’s when Entra refuses its assertion (AADSTS700027)', async () => {
    const other = await createAppCertificate();
    secrets.write('entra-app-other-cert', { certificate: other.certificate, privateKey: other.privateKey });
    const c = graphConnector(sim, 'certificate');
    c.spec.msgraph = { ...c.spec.msgraph!, auth: { type: 'certificate', secretRef: { name: 'entra-app-other-cert' } } };
    const r = await run(fx.deps, task(), c);
    expect(r.reason).toBe('ExtractFailed');
    expect(r.extract?.info).toContain('AADSTS700027');
    expect(r.extract?.info).toContain(
      'upload the certificate of secret "entra-app-other-cert" to the app registration',
    );
    expect(r.extract?.info).not.toContain('PRIVATE KEY');
  });

  it('refuses a Graph host whose certificate it cannot verify, naming the CA setting', async () => {
    const c = graphConnector(sim);
    c.spec.msgraph = { ...c.spec.msgraph!, tls: undefined };
    const r = await run(fx.deps, task(), c);
    expect(r.reason).toBe('ExtractFailed');
    expect(r.extract?.info).toContain('spec.msgraph.tls.caSecretRef');
  });

  it('says which permissions are missing on 403 and which query Graph refused on 400', async () => {
    sim.fault({ path: /^\/v1\.0\/groups\?/, status: 403, times: 1 });
    const r = await run(fx.deps, task(), graphConnector(sim));
    expect(r.reason).toBe('ExtractFailed');
    expect(r.extract?.info).toContain('GET /v1.0/groups answered HTTP 403');
    expect(r.extract?.info).toContain('Group.Read.All');
    const bad = graphTask({ mappingsType: 'identity' }, { usersFilter: "department ne 'IT'" });
    const c = graphConnector(sim);
    // A hand-made header without $count is not enough for Graph: the connector adds $count=true itself.
    const r2 = await run(fx.deps, bad, c);
    expect(r2.reason).toBe('Succeeded');
    expect((await fx.cards('account')).map((a) => a.object_id).sort()).toEqual(['u10', 'u12', 'u2', 'u4', 'u6', 'u8']);
  });
});
