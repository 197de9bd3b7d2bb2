/**
 * Custom objects (createCustomObject, updateCustomObject, deleteCustomObject on a Graph collection named by
 * input.objectClass, from the generic mapping) and restCall (graphUrl + /v1.0 + event.query + url, with the
 * Graph token) through the invoke endpoint, against the Graph simulator over HTTPS with the real MSAL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT_MAPPINGS, eventTaskYaml, type GraphEventWorld, startGraphEventWorld } from './event-fixture.js';

const generic = (unique: string, local: string) => `
    generic:
      template: iga_device
      attributes:
        - {external: ${unique}, local: ${local}, unique: true}
        - {external: displayName, local: name}
        - {external: mail, local: email}
        - {external: operatingSystem, local: os}`;

const GROUP = '0b9c1d2e-5a1f-4c3b-9d8e-000000000001';
const USER = '7e6d5c4b-3a29-4180-8f7e-000000000001';
let w: GraphEventWorld;

beforeAll(async () => {
  w = await startGraphEventWorld(
    () =>
      eventTaskYaml('entra-objects', 'generic', ' {timeout: 5s}', generic('id', 'object_id')) +
      eventTaskYaml('entra-devices', 'generic', ' {timeout: 5s}', generic('deviceId', 'device_id')) +
      eventTaskYaml('entra-accounts', 'identityAndAccess', ' {timeout: 5s}', ACCOUNT_MAPPINGS) +
      eventTaskYaml('entra-groups-rest', 'identityAndAccess', ' {timeout: 5s, query: /groups}', ACCOUNT_MAPPINGS),
  );
  w.sim.dir.addUser({ id: USER, displayName: 'Ada Lovelace', userPrincipalName: 'ada@contoso.example' });
  w.sim.dir.addGroup({ id: GROUP, displayName: 'Sales', securityEnabled: true });
});

afterAll(() => w.close());

beforeEach(() => {
  w.sim.reset();
  w.sim.dir.collections.set('/contacts', []);
  w.sim.dir.collections.set('/devices', [
    { id: 'a1b2c3d4-0000-4000-8000-000000000001', deviceId: 'dev-001', displayName: 'Laptop 1' },
    { id: 'a1b2c3d4-0000-4000-8000-000000000002', deviceId: "dev-'002", displayName: 'Laptop 2' },
  ]);
});

const writes = () => w.sim.graphCalls().filter((r) => r.method !== 'GET');

describe('custom objects', () => {
  it('creates (201 {id}), updates (204) and deletes (204) an object of the collection objectClass names', async () => {
    const created = await w.invoke(
      'entra-objects',
      'createCustomObject',
      { name: 'Vendor desk', email: 'desk@vendor.example' },
      { objectClass: 'contacts' },
    );
    expect(created.body).toMatchObject({ state: 'Completed', statusCode: 201, exception: null });
    const id = created.body.response.id as string;
    expect(w.sim.dir.collections.get('/contacts')).toEqual([
      { id, displayName: 'Vendor desk', mail: 'desk@vendor.example' },
    ]);
    expect(writes()[0]).toMatchObject({ method: 'POST', path: '/v1.0/contacts' });
    expect(JSON.parse(writes()[0].body ?? '')).toEqual({ displayName: 'Vendor desk', mail: 'desk@vendor.example' });

    const updated = await w.invoke(
      'entra-objects',
      'updateCustomObject',
      { object_id: id, name: 'Desk' },
      { objectClass: 'contacts' },
    );
    expect(updated.body).toMatchObject({ state: 'Completed', statusCode: 204, response: { id } });
    expect(w.sim.dir.collections.get('/contacts')?.[0].displayName).toBe('Desk');
    expect(JSON.parse(writes()[1].body ?? '')).toEqual({ displayName: 'Desk' });

    const deleted = await w.invoke(
      'entra-objects',
      'deleteCustomObject',
      { object_id: id },
      { objectClass: 'contacts' },
    );
    expect(deleted.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(w.sim.dir.collections.get('/contacts')).toEqual([]);
    const again = await w.invoke('entra-objects', 'deleteCustomObject', { object_id: id }, { objectClass: 'contacts' });
    expect(again.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(again.body.exception).toBe(
      `DELETE /v1.0/contacts/${id} answered HTTP 404 Not Found: Request_ResourceNotFound: Resource '${id}' does not ` +
        'exist or one of its queried reference-property objects are not present.',
    );
  });

  it('finds the object by a unique attribute other than id with $filter (the value an OData literal)', async () => {
    const res = await w.invoke(
      'entra-devices',
      'updateCustomObject',
      { device_id: "dev-'002", os: 'Windows' },
      { objectClass: 'devices' },
    );
    expect(res.body).toMatchObject({ state: 'Completed', response: { id: 'a1b2c3d4-0000-4000-8000-000000000002' } });
    const lookup = w.sim.graphCalls().find((r) => r.method === 'GET');
    expect(lookup?.path).toBe('/v1.0/devices');
    expect(lookup?.query.get('$filter')).toBe("deviceId eq 'dev-''002'");
    expect(w.sim.dir.collections.get('/devices')?.[1].operatingSystem).toBe('Windows');
    const none = await w.invoke(
      'entra-devices',
      'deleteCustomObject',
      { device_id: 'dev-999' },
      { objectClass: 'devices' },
    );
    expect(none.body.exception).toBe("no Graph object in /devices has deviceId 'dev-999' (data.device_id)");
  });

  it("is an Exception with Graph's answer for a collection the tenant does not have", async () => {
    const res = await w.invoke('entra-objects', 'createCustomObject', { name: 'x' }, { objectClass: 'gadgets' });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 400 });
    expect(res.body.exception).toBe(
      "POST /v1.0/gadgets answered HTTP 400 Bad Request: BadRequest: Resource not found for the segment 'gadgets'.",
    );
  });

  it('refuses a bad objectClass, unknown input and a missing mapping with 400, calling Graph for nothing', async () => {
    const cases: Array<[string, string, Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        'entra-objects',
        'createCustomObject',
        { name: 'x' },
        { objectClass: 'users/../groups' },
        'input.objectClass must be a Graph collection name such as devices, applications or contacts (letters and digits, one path segment), not "users/../groups"',
      ],
      [
        'entra-objects',
        'deleteCustomObject',
        { object_id: 'x' },
        {},
        'input.objectClass must be a Graph collection name such as devices, applications or contacts (letters and digits, one path segment)',
      ],
      [
        'entra-objects',
        'updateCustomObject',
        { object_id: 'x' },
        { objectClass: 'contacts', class: 'x' },
        'unknown input field(s) "class": updateCustomObject takes objectClass',
      ],
      [
        'entra-objects',
        'updateCustomObject',
        { object_id: 'x' },
        { objectClass: 'contacts' },
        'updateCustomObject: data holds none of the properties spec.mappings.generic writes',
      ],
      [
        'entra-accounts',
        'createCustomObject',
        { name: 'x' },
        { objectClass: 'contacts' },
        "createCustomObject needs the task's spec.mappings.generic, which maps the card's attributes to Graph attributes",
      ],
      [
        'entra-objects',
        'deleteCustomObject',
        {},
        { objectClass: 'contacts' },
        'data.object_id is required: it is the unique attribute of spec.mappings.generic (Graph id)',
      ],
    ];
    for (const [task, activity, data, input, message] of cases) {
      const res = await w.invoke(task, activity, data, input);
      expect(res.status, message).toBe(400);
      expect(res.body.error).toBe(message);
    }
    expect(w.sim.graphCalls()).toEqual([]);
  });
});

describe('restCall', () => {
  it('sends graphUrl + /v1.0 + the url with the Graph token; Completed with the body', async () => {
    const res = await w.invoke('entra-accounts', 'restCall', { id: USER }, { method: 'GET', url: '/users/$id$' });
    expect(res.body).toMatchObject({
      state: 'Completed',
      statusCode: 200,
      response: { id: USER, displayName: 'Ada Lovelace' },
    });
    const call = w.sim.graphCalls().at(-1);
    expect(call?.path).toBe(`/v1.0/users/${USER}`);
    expect(String(call?.headers.authorization)).toMatch(/^Bearer \S+$/);
  });

  it('puts the task’s event.query between /v1.0 and the url, and sends the body with data substituted', async () => {
    const res = await w.invoke(
      'entra-groups-rest',
      'restCall',
      { gid: GROUP, text: 'EMEA "north"' },
      { method: 'PATCH', url: '/$gid$', body: '{"description": "$text$"}' },
    );
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(writes().at(-1)).toMatchObject({ method: 'PATCH', path: `/v1.0/groups/${GROUP}` });
    expect(w.sim.dir.groups.get(GROUP)?.description).toBe('EMEA "north"');
  });

  it("is an Exception with Graph's code and message for an answer of 400 or more", async () => {
    const res = await w.invoke('entra-accounts', 'restCall', { id: 'nobody' }, { method: 'GET', url: '/users/$id$' });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(res.body.exception).toBe(
      "GET /v1.0/users/nobody answered 404 Not Found: Request_ResourceNotFound: Resource 'nobody' does not exist " +
        'or one of its queried reference-property objects are not present.',
    );
    expect(res.body.response.error.code).toBe('Request_ResourceNotFound');
  });

  it("takes an absolute URL on graphUrl's origin (another version too) and refuses any other with 400", async () => {
    const v1 = await w.invoke('entra-accounts', 'restCall', {}, { method: 'GET', url: `${w.sim.url}/v1.0/groups` });
    expect(v1.body).toMatchObject({ state: 'Completed', statusCode: 200 });
    expect(v1.body.response.value.map((g: { id: string }) => g.id)).toEqual([GROUP]);
    // The simulator serves only v1.0: what matters is that the beta URL was sent, not refused.
    const beta = await w.invoke('entra-accounts', 'restCall', {}, { method: 'GET', url: `${w.sim.url}/beta/groups` });
    expect(beta.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(w.sim.requests.at(-1)?.path).toBe('/beta/groups');
    const other = await w.invoke(
      'entra-accounts',
      'restCall',
      {},
      { method: 'GET', url: 'https://evil.example/v1.0/users' },
    );
    expect(other.status).toBe(400);
    expect(other.body.error).toContain('points to evil.example, outside the connector');
    const climb = await w.invoke('entra-accounts', 'restCall', {}, { method: 'GET', url: '/../beta/users' });
    expect(climb.status).toBe(400);
    expect(climb.body.error).toContain('outside the connector');
    const bad = await w.invoke('entra-accounts', 'restCall', {}, { method: 'GET', uri: '/users' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('unknown input field(s) "uri": restCall takes method, url and body');
    expect(w.sim.graphCalls().filter((r) => !r.path.endsWith('/groups'))).toEqual([]);
  });
});
