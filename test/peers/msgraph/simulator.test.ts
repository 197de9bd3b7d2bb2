/**
 * Pins the Graph simulator to what msgraph-api.md says Graph and the token endpoint answer, driven over HTTPS by
 * the real MSAL and by plain fetch (undici with the test CA): if one of these fails, the simulator drifted.
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../tls.js';
import { GraphSimulator } from './index.js';

// biome-ignore lint/suspicious/noExplicitAny: Graph's answers are read loosely here; the assertions pin their shape.
type Json = Record<string, any>;

let pki: TestPki;
let sim: GraphSimulator;
let agent: Agent;
let token: string;

const app = { tenantId: 'tenant-1', clientId: 'client-1', clientSecret: 'secret-1' };

async function msalToken(secret = app.clientSecret, tenant = app.tenantId): Promise<string> {
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: app.clientId,
      clientSecret: secret,
      authority: `${sim.url}/${tenant}`,
      knownAuthorities: [`localhost:${sim.port}`],
    },
    system: {
      networkClient: {
        sendGetRequestAsync: (url, o) => send('GET', url, o?.headers, undefined),
        sendPostRequestAsync: (url, o) => send('POST', url, o?.headers, o?.body),
      },
    },
  });
  const result = await msal.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
  return result?.accessToken ?? '';
}

async function send(method: string, url: string, headers?: Record<string, string>, body?: string) {
  const res = await fetch(url, { method, headers, body, dispatcher: agent });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: (await res.json()) as never };
}

async function graph(
  path: string,
  headers: Record<string, string> = {},
  init: { method?: string; body?: string } = {},
) {
  const res = await fetch(path.startsWith('http') ? path : `${sim.url}/v1.0${path}`, {
    method: init.method ?? 'GET',
    body: init.body,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    dispatcher: agent,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

beforeAll(async () => {
  pki = await createTestPki();
  sim = await GraphSimulator.start(pki, app);
  agent = new Agent({ connect: { ca: pki.caCert } });
  for (let i = 1; i <= 5; i++) {
    sim.dir.addUser({
      id: `u${i}`,
      displayName: `User ${i}`,
      mail: `u${i}@x.com`,
      department: 'IT',
      accountEnabled: i < 5,
    });
  }
  sim.dir.addGroup({ id: 'g1', displayName: 'sg-one', securityEnabled: true }, ['u1', 'u2', 'u3']);
  token = await msalToken();
});
afterAll(async () => {
  await agent.close();
  await sim.close();
  await pki.cleanup();
});
beforeEach(() => {
  sim.pageCap = 999;
});

describe('token endpoint (real MSAL 7)', () => {
  it('issues a client-credentials token for the right secret and refuses a wrong one with AADSTS7000215', async () => {
    expect(token).not.toBe('');
    await expect(msalToken('wrong')).rejects.toThrow(
      /invalid_client[\s\S]*AADSTS7000215: Invalid client secret provided/,
    );
  });

  it('answers an unknown tenant’s discovery with AADSTS90002', async () => {
    const res = await send('GET', `${sim.url}/other-tenant/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(400);
    expect((res.body as { error_description: string }).error_description).toMatch(
      /^AADSTS90002: Tenant 'other-tenant' not found/,
    );
  });
});

describe('Graph reads', () => {
  it('refuses a missing or expired token with 401 InvalidAuthenticationToken', async () => {
    const none = await fetch(`${sim.url}/v1.0/users`, { dispatcher: agent });
    expect(none.status).toBe(401);
    expect(((await none.json()) as Json).error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
    });
    sim.expireTokens();
    const expired = await graph('/users');
    expect(expired.body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Lifetime validation failed, the token is expired.',
    });
    expect(expired.body.error.innerError).toHaveProperty('request-id');
    token = await msalToken('secret-1');
  });

  it('serves $select, answers null for selected properties without a value, and defaults without $select', async () => {
    const sel = await graph('/users?$select=id,department,jobTitle&$top=2');
    expect(sel.body.value[0]).toEqual({ id: 'u1', department: 'IT', jobTitle: null });
    expect(sel.body['@odata.nextLink']).toMatch(new RegExp(`^${sim.url}/v1.0/users\\?\\$top=2&\\$skiptoken=`));
    const def = await graph('/users');
    expect(Object.keys(def.body.value[0])).not.toContain('department');
    const bad = await graph('/users?$select=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe("Could not find a property named 'nope' on type 'microsoft.graph.user'.");
  });

  it('pages with absolute nextLinks to the last page, and refuses $top outside 1..999', async () => {
    const ids: string[] = [];
    let next: string | undefined = '/users?$select=id&$top=2';
    while (next) {
      const page = await graph(next);
      ids.push(...page.body.value.map((u: { id: string }) => u.id));
      next = page.body['@odata.nextLink'];
    }
    expect(ids).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    const big = await graph('/users?$top=1000');
    expect(big.body.error).toMatchObject({
      code: 'Request_UnsupportedQuery',
      message: "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    });
  });

  it('refuses advanced queries without ConsistencyLevel: eventual and $count=true, with Graph’s message', async () => {
    const plain = await graph("/users?$filter=endsWith(mail,'@x.com')");
    expect(plain.status).toBe(400);
    expect(plain.body.error.message).toBe(
      "Operator 'endsWith' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
    );
    const headerOnly = await graph("/users?$filter=endsWith(mail,'@x.com')", { ConsistencyLevel: 'eventual' });
    expect(headerOnly.status).toBe(400);
    const ok = await graph("/users?$filter=endsWith(mail,'@x.com') and accountEnabled eq true&$count=true", {
      ConsistencyLevel: 'eventual',
    });
    expect(ok.body['@odata.count']).toBe(4);
    expect((await graph("/users?$filter=startsWith(displayName,'User')")).body.value).toHaveLength(5);
    const search = await graph('/users?$search="displayName:User 2"');
    expect(search.body.error.message).toContain("ConsistencyLevel: eventual'");
    const searched = await graph('/users?$search="displayName:User 2"', { ConsistencyLevel: 'eventual' });
    expect(searched.body.value.map((u: { id: string }) => u.id)).toEqual(['u2']);
  });

  it('lists members with @odata.type and 404s an unknown group', async () => {
    const m = await graph('/groups/g1/members?$select=id');
    expect(m.body.value).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: 'u1' },
      { '@odata.type': '#microsoft.graph.user', id: 'u2' },
      { '@odata.type': '#microsoft.graph.user', id: 'u3' },
    ]);
    const missing = await graph('/groups/nope/members');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('Request_ResourceNotFound');
  });

  it('throttles with 429 and Retry-After when told to', async () => {
    sim.fault({ status: 429, retryAfter: 7, times: 1 });
    const res = await graph('/users');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body.error.code).toBe('TooManyRequests');
  });
});

describe('delta', () => {
  it('ends a round with a deltaLink, then returns changes, @removed and members@delta since it', async () => {
    sim.deltaPageSize = 3;
    sim.deltaEmptyPages = 1;
    const pages: Array<Json> = [];
    let next: string | undefined = '/users/delta?$select=displayName,department';
    let deltaLink: string | undefined;
    while (next) {
      const page: Json = (await graph(next)).body;
      pages.push(page);
      expect(page['@odata.nextLink'] !== undefined && page['@odata.deltaLink'] !== undefined).toBe(false);
      next = page['@odata.nextLink'];
      deltaLink = page['@odata.deltaLink'];
    }
    expect(pages.map((p) => p.value.length)).toEqual([3, 2, 0]);
    expect(pages[0].value[0]).toEqual({ id: 'u1', displayName: 'User 1', department: 'IT' });
    const groupLink = await drain('/groups/delta?$select=displayName,members');
    sim.dir.updateUser('u1', { department: 'Sales' });
    sim.dir.updateUser('u2', { mail: 'not-selected@x.com' });
    sim.dir.deleteUser('u3');
    sim.dir.addMember('g1', 'u4');
    const changes = await graph(deltaLink as string);
    expect(changes.body.value).toEqual([
      { id: 'u1', department: 'Sales' },
      { id: 'u3', '@removed': { reason: 'changed' } },
    ]);
    const groups = await graph(groupLink);
    expect(groups.body.value).toEqual([
      {
        id: 'g1',
        'members@delta': [
          { '@odata.type': '#microsoft.graph.user', id: 'u3', '@removed': { reason: 'deleted' } },
          { '@odata.type': '#microsoft.graph.user', id: 'u4' },
        ],
      },
    ]);
    sim.deltaEmptyPages = 0;
  });

  it('answers an expired token with syncStateNotFound, or 410 Gone with a Location, and refuses $top', async () => {
    const link = await drain('/users/delta?$select=displayName');
    sim.expireDeltaTokens();
    const expired = await graph(link);
    expect(expired.status).toBe(400);
    expect(expired.body.error).toMatchObject({
      code: 'syncStateNotFound',
      message:
        'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
    });
    sim.deltaExpiry = 'gone';
    const gone = await graph(link);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('location')).toBe(`${sim.url}/v1.0/users/delta?$deltatoken=`);
    sim.deltaExpiry = 'syncStateNotFound';
    expect((await graph('/users/delta?$top=5')).status).toBe(400);
    const latest = await graph('/users/delta?$deltatoken=latest');
    expect(latest.body).toMatchObject({ value: [] });
    expect(latest.body['@odata.deltaLink']).toContain('$deltatoken=');
  });
});

describe('$batch', () => {
  it('answers up to 20 requests by id, an item’s own 429, and refuses 21 or duplicate ids', async () => {
    sim.fault({ path: /^\/v1\.0\/users\/u2/, status: 429, retryAfter: 3, times: 1, inBatch: true });
    const requests = ['u1', 'u2', 'nope'].map((id, i) => ({
      id: String(i),
      method: 'GET',
      url: `/users/${id}?$select=id`,
    }));
    const res = await graph('/$batch', {}, { method: 'POST', body: JSON.stringify({ requests }) });
    const byId = new Map(res.body.responses.map((r: { id: string }) => [r.id, r]));
    expect(byId.get('0')).toMatchObject({ status: 200, body: { id: 'u1' } });
    expect(byId.get('1')).toMatchObject({ status: 429, headers: { 'Retry-After': '3' } });
    expect(byId.get('2')).toMatchObject({ status: 404 });
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/users/u1' }));
    expect((await graph('/$batch', {}, { method: 'POST', body: JSON.stringify({ requests: many }) })).status).toBe(400);
    const dup = [requests[0], { ...requests[1], id: '0' }];
    expect((await graph('/$batch', {}, { method: 'POST', body: JSON.stringify({ requests: dup }) })).status).toBe(400);
  });
});

async function drain(first: string): Promise<string> {
  let next: string | undefined = first;
  for (;;) {
    const page: Json = (await graph(next as string)).body;
    if (page['@odata.deltaLink']) return page['@odata.deltaLink'];
    next = page['@odata.nextLink'];
  }
}
