/**
 * The SCIM provisioning activities end to end: a controller runtime serving the invoke endpoint over HTTP, with
 * event tasks on a SCIM connector, acting on a real SCIM server (SCIMMY, test/peers/scim-server.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { TokenAuth } from '../../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../../src/server/serve.js';
import { postInvoke } from '../../invocations/invoke-client.js';
import { captureLogger } from '../../peers/log-capture.js';
import { ENTERPRISE, ScimServer } from '../../peers/scim-server.js';

const TOKEN = 'invoke-token-scim-7d1';
const PASSWORD = 'scim-pa55word-9f2';
let scim: ScimServer;
let runtime: ServedRuntime;
let dir: string;
let base: string;
const logs = captureLogger('debug');

const identity = (unique: 'id' | 'userName') => `
    identity:
      template: account
      attributes:
        - {external: ${unique === 'id' ? 'id' : 'userName'}, local: ${unique === 'id' ? 'scim_id' : 'user_name'}, unique: true}
        ${unique === 'id' ? '- {external: userName, local: user_name}' : '- {external: id, local: scim_id}'}
        - {external: name.givenName, local: first_name}
        - {external: name.familyName, local: last_name}
        - {external: emails.0.value, local: email}
        - {external: "['${ENTERPRISE}'].department", local: department}
        - {external: "groups[*].value", local: member_of, references: access}`;

const access = `
    access:
      template: entitlement
      attributes:
        - {external: id, local: group_id, unique: true}
        - {external: displayName, local: name}
        - {external: "members[*].value", local: members, references: identity}`;

const resources = (port: number) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: workforce-idp, namespace: iga}
spec:
  type: scim
  scim:
    host: 127.0.0.1
    port: ${port}
    basePath: /scim/v2
    tls: {enabled: false}
    auth: {type: basic, secretRef: {name: scim-credentials}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: idp-users, namespace: iga}
spec:
  connectorRef: {name: workforce-idp}
  usage: event
  mappingsType: identityAndAccess
  event: {timeout: 5s}
  mappings:${identity('id')}${access}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: idp-by-name, namespace: iga}
spec:
  connectorRef: {name: workforce-idp}
  usage: event
  mappingsType: identity
  event: {timeout: 5s}
  mappings:${identity('userName')}
---
apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: idp-without-patch, namespace: iga}
spec:
  type: scim
  scim:
    host: 127.0.0.1
    port: ${port}
    basePath: /scim/v2
    tls: {enabled: false}
    auth: {type: basic, secretRef: {name: scim-credentials}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: idp-put, namespace: iga}
spec:
  connectorRef: {name: idp-without-patch}
  usage: event
  mappingsType: identityAndAccess
  event: {timeout: 5s}
  mappings:${identity('id')}${access}
`;

const invoke = (
  activity: string,
  data: Record<string, unknown>,
  input: Record<string, unknown> = {},
  task = 'idp-users',
) => postInvoke(base, { namespace: 'iga', name: task }, TOKEN, { activity, input, data });

beforeAll(async () => {
  scim = await ScimServer.start({ auth: { type: 'basic', username: 'svc-provisio', password: PASSWORD } });
  dir = mkdtempSync(join(tmpdir(), 'provisio-scim-activities-'));
  writeFileSync(join(dir, 'idp.yaml'), resources(scim.port));
  runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    log: logs.log,
    secrets: new LocalSecretResolver(undefined, {
      PROVISIO_SECRET_SCIM_CREDENTIALS_USERNAME: 'svc-provisio',
      PROVISIO_SECRET_SCIM_CREDENTIALS_PASSWORD: PASSWORD,
    }),
    listen: '127.0.0.1:0',
    auth: new TokenAuth([TOKEN]),
    checkConnections: false,
  });
  base = `http://127.0.0.1:${runtime.address!.port}`;
});

afterAll(async () => {
  await runtime.close();
  await scim.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  scim.reset();
  scim.user({ id: 'u1', userName: 'ada', name: { givenName: 'Ada' }, active: true });
  scim.user({ id: 'u2', userName: 'grace', active: true });
  scim.group({ id: 'g1', displayName: 'app-x', members: ['u2'] });
  scim.group({ id: 'g2', displayName: 'app-y', members: [] });
  logs.clear();
});

const memberIds = (group: string): unknown[] =>
  ((scim.groups.get(group)?.members as Array<{ value: string }> | undefined) ?? []).map((m) => m.value);

describe('user activities', () => {
  it('createUser posts the mapped attributes and answers 201 with id and userName', async () => {
    const res = await invoke('createUser', {
      user_name: 'linus',
      first_name: 'Linus',
      last_name: 'Torvalds',
      email: 'linus@example.com',
      department: 'Kernel',
      member_of: ['g1'],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 201, exception: null });
    const id = res.body.response.id as string;
    expect(res.body.response).toEqual({ id, userName: 'linus' });
    const saved = scim.users.get(id)!;
    expect(saved).toMatchObject({
      userName: 'linus',
      name: { givenName: 'Linus', familyName: 'Torvalds' },
      emails: [{ value: 'linus@example.com' }],
      [ENTERPRISE]: { department: 'Kernel' },
    });
  });

  it('createUser of a taken userName is an Exception naming the attribute', async () => {
    const posts = () => scim.requests.filter((r) => r.method === 'POST').length;
    const res = await invoke('createUser', { user_name: 'ada' });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 409 });
    expect(res.body.exception).toBe(
      'POST /Users answered HTTP 409 Conflict: uniqueness: userName "ada" already exists',
    );
    expect(posts()).toBe(1);
  });

  it('updateUser PATCHes the mapped attributes of the user the unique id names', async () => {
    const res = await invoke('updateUser', { scim_id: 'u1', first_name: 'Augusta', department: 'Analytics' });
    expect(res.body).toMatchObject({ state: 'Completed', exception: null, response: { id: 'u1' } });
    expect(scim.users.get('u1')).toMatchObject({ userName: 'ada', name: { givenName: 'Augusta' } });
    expect(scim.users.get('u1')?.[ENTERPRISE]).toMatchObject({ department: 'Analytics' });
    expect(scim.requests.some((r) => r.method === 'PATCH' && r.path === '/scim/v2/Users/u1')).toBe(true);
  });

  it('updateUser finds the user by a userName filter when the unique attribute is not id', async () => {
    const res = await invoke('updateUser', { user_name: 'grace', last_name: 'Hopper' }, {}, 'idp-by-name');
    expect(res.body).toMatchObject({ state: 'Completed', response: { id: 'u2' } });
    expect(scim.users.get('u2')).toMatchObject({ name: { familyName: 'Hopper' } });
    expect(scim.requests.find((r) => r.method === 'GET' && r.path === '/scim/v2/Users')?.query.filter).toBe(
      'userName eq "grace"',
    );
    // SCIMMY cannot parse an escaped quote in a filter (its caveat); scimString's escaping is in filter.test.ts.
    const none = await invoke('deleteUser', { user_name: 'nobody' }, {}, 'idp-by-name');
    expect(none.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(none.body.exception).toBe('no SCIM user has userName "nobody" (data.user_name)');
  });

  it('deactivateUser and activateUser set active', async () => {
    expect((await invoke('deactivateUser', { scim_id: 'u1' })).body.state).toBe('Completed');
    expect(scim.users.get('u1')?.active).toBe(false);
    expect((await invoke('activateUser', { scim_id: 'u1' })).body.state).toBe('Completed');
    expect(scim.users.get('u1')?.active).toBe(true);
  });

  it('deleteUser deletes the user', async () => {
    const res = await invoke('deleteUser', { scim_id: 'u1' });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(scim.users.has('u1')).toBe(false);
    const again = await invoke('deleteUser', { scim_id: 'u1' });
    expect(again.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(again.body.exception).toMatch(/^DELETE \/Users\/u1 answered HTTP 404 Not Found: /);
  });

  it('answers 400 for data without the unique attribute, and calls nothing', async () => {
    const res = await invoke('updateUser', { first_name: 'X' });
    expect(res).toMatchObject({
      status: 400,
      body: {
        error: 'data.scim_id is required: it is the unique attribute of spec.mappings.identity (SCIM id)',
      },
    });
    expect((await invoke('createUser', { first_name: 'X' })).body.error).toBe(
      'data.user_name is required: createUser sends it as the SCIM userName',
    );
    expect((await invoke('addUserToGroups', { scim_id: 'u1' })).body.error).toMatch(/needs input.groups/);
    expect((await invoke('createGroup', { name: 'g' }, {}, 'idp-by-name')).body.error).toMatch(
      /^createGroup needs the task's spec.mappings.access/,
    );
    expect((await invoke('sendMail', {})).body.error).toMatch(
      /^unknown activity "sendMail": this task supports createUser, /,
    );
    expect(scim.requests).toHaveLength(0);
  });
});

describe('group activities', () => {
  it('addUserToGroups adds the user to every group (ids from input or a data attribute)', async () => {
    const res = await invoke('addUserToGroups', { scim_id: 'u1' }, { groups: ['g1', 'g2'] });
    expect(res.body).toMatchObject({ state: 'Completed', response: { user: 'u1', groups: ['g1', 'g2'] } });
    expect(memberIds('g1')).toEqual(['u2', 'u1']);
    expect(memberIds('g2')).toEqual(['u1']);
    const viaData = await invoke('removeUserFromGroups', { scim_id: 'u2', roles: 'g1' }, { groupsAttribute: 'roles' });
    expect(viaData.body.state).toBe('Completed');
    expect(memberIds('g1')).toEqual(['u1']);
  });

  it('a partial addUserToGroups is an Exception naming each failed group', async () => {
    const res = await invoke('addUserToGroups', { scim_id: 'u1' }, { groups: ['g2', 'nope'] });
    expect(res.body).toMatchObject({ state: 'Exception', response: { user: 'u1', groups: ['g2'] } });
    expect(res.body.exception).toMatch(
      /^addUserToGroups: 1 of 2 group\(s\) failed \(1 done\): group nope: GET \/Groups\/nope answered HTTP 404 Not Found/,
    );
    expect(memberIds('g2')).toEqual(['u1']);
  });

  it('ignoreExisting accepts a user who already is (or is not) a member', async () => {
    const strict = await invoke('addUserToGroups', { scim_id: 'u2' }, { groups: 'g1' });
    expect(strict.body).toMatchObject({ state: 'Exception' });
    expect(strict.body.exception).toContain('group g1: user u2 already is a member');
    const lenient = await invoke('addUserToGroups', { scim_id: 'u2' }, { groups: ['g1', 'g2'], ignoreExisting: true });
    expect(lenient.body.state).toBe('Completed');
    expect(memberIds('g1')).toEqual(['u2']);
    expect(memberIds('g2')).toEqual(['u2']);
    const remove = await invoke('removeUserFromGroups', { scim_id: 'u1' }, { groups: 'g1', ignoreExisting: true });
    expect(remove.body.state).toBe('Completed');
  });

  it('createGroup and deleteGroup use the access mapping', async () => {
    const res = await invoke('createGroup', { name: 'app-z' });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 201 });
    const id = res.body.response.id as string;
    expect(res.body.response).toEqual({ id, displayName: 'app-z' });
    expect(scim.groups.get(id)).toMatchObject({ displayName: 'app-z' });
    const del = await invoke('deleteGroup', { group_id: id });
    expect(del.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(scim.groups.has(id)).toBe(false);
  });
});

describe('restCall', () => {
  it('sends one request under the SCIM base URL with the data substituted', async () => {
    const res = await invoke('restCall', { id: 'u1' }, { method: 'GET', url: '/Users/$id$' });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 200, response: { id: 'u1', userName: 'ada' } });
    const patch = await invoke(
      'restCall',
      { id: 'u2' },
      {
        method: 'PATCH',
        url: '/Users/$id$',
        body: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'title', value: 'Rear Admiral' }],
        },
      },
    );
    expect(patch.body.state).toBe('Completed');
    expect(scim.users.get('u2')?.title).toBe('Rear Admiral');
    const missing = await invoke('restCall', { id: 'zz' }, { method: 'GET', url: '/Users/$id$' });
    expect(missing.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(missing.body.exception).toBe('GET /scim/v2/Users/zz answered 404 Not Found: Resource zz not found');
    const off = await invoke('restCall', {}, { method: 'GET', url: 'http://evil.example/Users' });
    expect(off.status).toBe(400);
    const up = await invoke('restCall', {}, { method: 'GET', url: '/../admin' });
    expect(up.status).toBe(400);
  });
});

describe('a server without PATCH', () => {
  it('updates users and memberships by GET then PUT of the whole resource', async () => {
    scim.intercept = (req) =>
      req.path.endsWith('/ServiceProviderConfig')
        ? { status: 200, json: { patch: { supported: false }, filter: { supported: true } } }
        : undefined;
    const res = await invoke('updateUser', { scim_id: 'u1', last_name: 'Lovelace' }, {}, 'idp-put');
    expect(res.body).toMatchObject({ state: 'Completed', response: { id: 'u1' } });
    expect(scim.users.get('u1')).toMatchObject({ userName: 'ada', name: { givenName: 'Ada', familyName: 'Lovelace' } });
    expect((await invoke('deactivateUser', { scim_id: 'u1' }, {}, 'idp-put')).body.state).toBe('Completed');
    expect(scim.users.get('u1')?.active).toBe(false);
    const add = await invoke('addUserToGroups', { scim_id: 'u1' }, { groups: ['g1'] }, 'idp-put');
    expect(add.body.state).toBe('Completed');
    expect(memberIds('g1')).toEqual(['u2', 'u1']);
    expect((await invoke('removeUserFromGroups', { scim_id: 'u2' }, { groups: 'g1' }, 'idp-put')).body.state).toBe(
      'Completed',
    );
    expect(memberIds('g1')).toEqual(['u1']);
    expect(scim.requests.some((r) => r.method === 'PATCH')).toBe(false);
    expect(scim.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual([
      '/scim/v2/Users/u1',
      '/scim/v2/Users/u1',
      '/scim/v2/Groups/g1',
      '/scim/v2/Groups/g1',
    ]);
  });
});

describe('faults and secrets', () => {
  it('waits out a 429 on a PATCH but never sends a POST twice', async () => {
    let refused = 0;
    scim.intercept = (req) =>
      req.method === 'PATCH' && refused++ === 0
        ? { status: 429, detail: 'slow down', headers: { 'Retry-After': '0' } }
        : undefined;
    expect((await invoke('deactivateUser', { scim_id: 'u1' })).body.state).toBe('Completed');
    expect(scim.users.get('u1')?.active).toBe(false);
    scim.intercept = (req) => (req.method === 'POST' ? { status: 503, detail: 'busy' } : undefined);
    const res = await invoke('createUser', { user_name: 'new' });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 503 });
    expect(res.body.exception).toBe(
      'POST /Users answered HTTP 503 Service Unavailable: busy; not sent again (a POST is never repeated within one ' +
        'call, so that nothing is created twice): invoke again later',
    );
    expect(scim.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('never puts the password or the Basic header in responses or logs', async () => {
    scim.intercept = (req) =>
      req.method === 'POST' ? { status: 400, scimType: 'invalidValue', detail: `bad password ${PASSWORD}` } : undefined;
    const res = await invoke('createUser', { user_name: 'new' });
    expect(res.body.exception).toBe('POST /Users answered HTTP 400 Bad Request: invalidValue: bad password [redacted]');
    await invoke('updateUser', { scim_id: 'u1', first_name: 'Z' });
    const basic = Buffer.from(`svc-provisio:${PASSWORD}`).toString('base64');
    for (const secret of [PASSWORD, basic]) {
      expect(JSON.stringify(res.body)).not.toContain(secret);
      expect(logs.text()).not.toContain(secret);
    }
    expect(logs.text()).toContain('SCIM call');
  });
});
