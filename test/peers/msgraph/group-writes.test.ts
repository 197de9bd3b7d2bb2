/**
 * Pins the simulator's group and custom-object writes to msgraph-api.md "Writes", over HTTPS with a token from
 * its token endpoint: what the connector's membership, group and custom object activities are tested against.
 */
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../tls.js';
import { GraphSimulator } from './index.js';

// biome-ignore lint/suspicious/noExplicitAny: Graph's answers are read loosely here; the assertions pin their shape.
type Json = Record<string, any>;

const app = { tenantId: 'tenant-w', clientId: 'client-w', clientSecret: 'secret-w' };
const G1 = '0b9c1d2e-0000-4000-8000-000000000001';
const U1 = '1a2b3c4d-0000-4000-8000-00000000000a';
const U2 = '1a2b3c4d-0000-4000-8000-00000000000b';
let pki: TestPki;
let sim: GraphSimulator;
let agent: Agent;
let token: string;

async function graph(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/v1.0${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    dispatcher: agent,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json | undefined };
}

const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

beforeAll(async () => {
  pki = await createTestPki();
  sim = await GraphSimulator.start(pki, app);
  agent = new Agent({ connect: { ca: pki.caCert } });
  const res = await fetch(sim.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }),
    dispatcher: agent,
  });
  token = ((await res.json()) as Json).access_token;
});

afterAll(async () => {
  await agent.close();
  await sim.close();
  await pki.cleanup();
});

beforeEach(() => {
  sim.dir.users.clear();
  sim.dir.groups.clear();
  sim.dir.members.clear();
  sim.dir.addUser({ id: U1, displayName: 'Ada' });
  sim.dir.addUser({ id: U2, displayName: 'Bob' });
  sim.dir.addGroup({ id: G1, displayName: 'Sales', securityEnabled: true }, [U2]);
});

describe('memberships', () => {
  it('adds with POST members/$ref (204), refuses a duplicate with 400, and delta reports the change', async () => {
    const start = sim.dir.version;
    expect((await graph('POST', `/groups/${G1}/members/$ref`, ref(U1))).status).toBe(204);
    expect([...(sim.dir.members.get(G1) ?? [])].sort()).toEqual([U1, U2].sort());
    const dup = await graph('POST', `/groups/${G1}/members/$ref`, ref(U1));
    expect(dup.status).toBe(400);
    expect(dup.body?.error).toMatchObject({
      code: 'Request_BadRequest',
      message: "One or more added object references already exist for the following modified properties: 'members'.",
    });
    expect(sim.dir.deltaItems('groups', start, ['displayName', 'members'], 50)).toEqual([
      { id: G1, 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: U1 }] },
    ]);
  });

  it('removes with DELETE members/{id}/$ref (204); a non-member is a 404 naming the member', async () => {
    expect((await graph('DELETE', `/groups/${G1}/members/${U2}/$ref`)).status).toBe(204);
    expect(sim.dir.members.get(G1)?.size).toBe(0);
    const again = await graph('DELETE', `/groups/${G1}/members/${U2}/$ref`);
    expect(again.status).toBe(404);
    expect(again.body?.error.code).toBe('Request_ResourceNotFound');
    expect(again.body?.error.message).toContain(`'${U2}'`);
  });

  it('answers 404 Request_ResourceNotFound naming an unknown group or user, and 400 for a bad @odata.id', async () => {
    const unknownGroup = '0b9c1d2e-0000-4000-8000-0000000000ff';
    const g = await graph('POST', `/groups/${unknownGroup}/members/$ref`, ref(U1));
    expect(g.status).toBe(404);
    expect(g.body?.error.message).toContain(`'${unknownGroup}'`);
    const u = await graph('POST', `/groups/${G1}/members/$ref`, ref('1a2b3c4d-0000-4000-8000-0000000000ff'));
    expect(u.status).toBe(404);
    expect(u.body?.error.code).toBe('Request_ResourceNotFound');
    expect((await graph('POST', `/groups/${G1}/members/$ref`, { '@odata.id': 'nope' })).status).toBe(400);
  });
});

describe('groups', () => {
  it('creates with the four required properties (201 with the group), and names a missing one (400)', async () => {
    const group = { displayName: 'Ops', mailEnabled: false, mailNickname: 'ops', securityEnabled: true };
    const created = await graph('POST', '/groups', group);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...group, groupTypes: [] });
    expect(sim.dir.groups.get(created.body?.id)).toMatchObject(group);
    const missing = await graph('POST', '/groups', { displayName: 'X', mailEnabled: false, securityEnabled: true });
    expect(missing.status).toBe(400);
    expect(missing.body?.error.message).toBe("A value is required for property 'mailNickname' of resource 'Group'.");
    const unknown = await graph('POST', '/groups', { ...group, colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body?.error.message).toContain("'colour'");
  });

  it('PATCHes (204) and DELETEs (204); an unknown group is 404', async () => {
    expect((await graph('PATCH', `/groups/${G1}`, { description: 'EMEA' })).status).toBe(204);
    expect(sim.dir.groups.get(G1)?.description).toBe('EMEA');
    expect((await graph('DELETE', `/groups/${G1}`)).status).toBe(204);
    expect(sim.dir.groups.has(G1)).toBe(false);
    expect((await graph('DELETE', `/groups/${G1}`)).status).toBe(404);
  });
});

describe('custom objects', () => {
  it('POSTs (201 with an id), PATCHes and DELETEs (204) on a collection; unknown ones are 404 / 400', async () => {
    sim.dir.collections.set('/contacts', []);
    const created = await graph('POST', '/contacts', { displayName: 'Vendor desk', mail: 'desk@vendor.example' });
    expect(created.status).toBe(201);
    const id = created.body?.id as string;
    expect(sim.dir.collections.get('/contacts')).toEqual([
      { id, displayName: 'Vendor desk', mail: 'desk@vendor.example' },
    ]);
    expect((await graph('PATCH', `/contacts/${id}`, { displayName: 'Desk' })).status).toBe(204);
    const found = await graph('GET', `/contacts?$filter=${encodeURIComponent("displayName eq 'Desk'")}`);
    expect(found.body?.value.map((o: Json) => o.id)).toEqual([id]);
    expect((await graph('DELETE', `/contacts/${id}`)).status).toBe(204);
    expect((await graph('DELETE', `/contacts/${id}`)).status).toBe(404);
    expect((await graph('POST', '/gadgets', { displayName: 'x' })).status).toBe(400);
  });
});
