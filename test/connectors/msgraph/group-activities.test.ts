/**
 * The Graph group activities through the invoke endpoint, against the Graph simulator over HTTPS with the real
 * MSAL: memberships (all, partial, existing, throttled, replayed, a burst), verifyGroupMembership, and
 * create/update/deleteGroup, with the requests Graph received.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT_MAPPINGS, eventTaskYaml, type GraphEventWorld, startGraphEventWorld } from './event-fixture.js';

const EVENT = ' {timeout: 5s}';
const UPN_MAPPINGS = `
    identity:
      template: iga_account
      attributes:
        - {external: userPrincipalName, local: upn, unique: true}
        - {external: displayName, local: display_name}`;

const gid = (n: number) => `0b9c1d2e-5a1f-4c3b-9d8e-${String(n).padStart(12, '0')}`;
const uid = (n: number) => `7e6d5c4b-3a29-4180-8f7e-${String(n).padStart(12, '0')}`;
const ADA = uid(1);
const BOB = uid(2);

let w: GraphEventWorld;

beforeAll(async () => {
  w = await startGraphEventWorld(
    () =>
      eventTaskYaml('entra-accounts', 'identityAndAccess', EVENT, ACCOUNT_MAPPINGS) +
      eventTaskYaml('entra-by-upn', 'identity', EVENT, UPN_MAPPINGS),
  );
});

afterAll(() => w.close());

beforeEach(() => {
  const { dir } = w.sim;
  dir.users.clear();
  dir.groups.clear();
  dir.members.clear();
  w.sim.reset();
  dir.addUser({ id: ADA, displayName: 'Ada Lovelace', userPrincipalName: 'ada@contoso.example' });
  dir.addUser({ id: BOB, displayName: 'Bob Ross', userPrincipalName: 'bob@contoso.example' });
  for (let n = 1; n <= 6; n++) dir.addGroup({ id: gid(n), displayName: `Group ${n}`, securityEnabled: true });
  dir.members.get(gid(6))?.add(ADA);
});

const members = (g: string) => [...(w.sim.dir.members.get(g) ?? [])].sort();
const writes = () => w.sim.graphCalls().filter((r) => r.method !== 'GET');

describe('addUserToGroups', () => {
  it('POSTs a members/$ref per group, from input.groups and input.groupsAttribute, and is Completed', async () => {
    const res = await w.invoke(
      'entra-accounts',
      'addUserToGroups',
      { object_id: ADA, roles: [gid(2), gid(3)] },
      { groups: gid(1), groupsAttribute: 'roles' },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'Completed',
      exception: null,
      response: { user: ADA, groups: [gid(1), gid(2), gid(3)] },
    });
    for (const n of [1, 2, 3]) expect(members(gid(n))).toEqual([ADA]);
    const posts = writes();
    expect(posts.map((r) => `${r.method} ${r.path}`)).toEqual(
      [1, 2, 3].map((n) => `POST /v1.0/groups/${gid(n)}/members/$ref`),
    );
    expect(JSON.parse(posts[0].body ?? '')).toEqual({ '@odata.id': `${w.sim.url}/v1.0/directoryObjects/${ADA}` });
  });

  it('is an Exception naming the one failed group of six (an existing membership) and the five done', async () => {
    const all = [1, 2, 3, 4, 5, 6].map(gid);
    w.logs.clear();
    const res = await w.invoke('entra-accounts', 'addUserToGroups', { object_id: ADA }, { groups: all });
    // Each group's outcome is in the log, as the seeds promise admins.
    const logged = w.logs.entries();
    expect(logged.filter((e) => e.msg === 'Graph membership added').map((e) => e.group)).toEqual(all.slice(0, 5));
    expect(logged.find((e) => e.msg === 'Graph activity failed')?.exception).toContain(`already is a member`);
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('Exception');
    expect(res.body.response).toEqual({ user: ADA, groups: all.slice(0, 5) });
    expect(res.body.exception).toBe(
      `addUserToGroups: 1 of 6 group(s) failed. Group ${gid(6)}: user ${ADA} already is a member ` +
        `(POST /v1.0/groups/${gid(6)}/members/$ref answered HTTP 400 Bad Request: Request_BadRequest: One or more added ` +
        "object references already exist for the following modified properties: 'members'.); set " +
        `input.ignoreExisting to accept that. Done: ${all.slice(0, 5).join(', ')}; invoking again with ` +
        'input.ignoreExisting true leaves the done ones as they are.',
    );
    for (const g of all) expect(members(g)).toEqual([ADA]);
  });

  it('with ignoreExisting counts an existing membership as unchanged and is Completed', async () => {
    const res = await w.invoke(
      'entra-accounts',
      'addUserToGroups',
      { object_id: ADA },
      { groups: [gid(5), gid(6)], ignoreExisting: true },
    );
    expect(res.body).toMatchObject({
      state: 'Completed',
      response: { user: ADA, groups: [gid(5), gid(6)], unchanged: [gid(6)] },
    });
  });

  it('names a group Graph does not know with its 404 Request_ResourceNotFound', async () => {
    const missing = gid(99);
    const res = await w.invoke('entra-accounts', 'addUserToGroups', { object_id: BOB }, { groups: [gid(1), missing] });
    expect(res.body.state).toBe('Exception');
    expect(res.body.exception).toBe(
      `addUserToGroups: 1 of 2 group(s) failed. Group ${missing}: POST /v1.0/groups/${missing}/members/$ref answered ` +
        `HTTP 404 Not Found: Request_ResourceNotFound: Resource '${missing}' does not exist or one of its queried ` +
        `reference-property objects are not present. Done: ${gid(1)}; invoking again with input.ignoreExisting ` +
        'true leaves the done ones as they are.',
    );
  });

  it('finds the user by a userPrincipalName unique attribute and sends the object id', async () => {
    const res = await w.invoke(
      'entra-by-upn',
      'addUserToGroups',
      { upn: "o'neil@contoso.example" },
      { groups: gid(1) },
    );
    expect(res.body.state).toBe('Exception');
    expect(res.body.exception).toBe(
      "no Graph user in /users has userPrincipalName 'o''neil@contoso.example' (data.upn)",
    );
    const ok = await w.invoke('entra-by-upn', 'addUserToGroups', { upn: 'bob@contoso.example' }, { groups: gid(1) });
    expect(ok.body).toMatchObject({ state: 'Completed', response: { user: BOB } });
    expect(members(gid(1))).toEqual([BOB]);
    const lookup = w.sim.graphCalls().findLast((r) => r.method === 'GET' && r.path === '/v1.0/users');
    expect(lookup?.query.get('$filter')).toBe("userPrincipalName eq 'bob@contoso.example'");
  });

  it('refuses a bad invocation with 400 naming the field, calling Graph for nothing', async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        { object_id: ADA },
        { groups: [gid(1), 'Sales'] },
        `input.groups holds "Sales", which is not a Graph group id (an object id GUID such as 0b9c1d2e-5a1f-4c3b-9d8e-7f6a5b4c3d2e)`,
      ],
      [
        { object_id: ADA, roles: ['cn=x'] },
        { groupsAttribute: 'roles' },
        'data.roles (input.groupsAttribute) holds "cn=x", which is not a Graph group id (an object id GUID such as 0b9c1d2e-5a1f-4c3b-9d8e-7f6a5b4c3d2e)',
      ],
      [
        { object_id: ADA },
        { group: gid(1) },
        'unknown input field(s) "group": addUserToGroups takes groups, groupsAttribute, ignoreExisting',
      ],
      [{ object_id: ADA }, {}, "addUserToGroups needs input.groups or input.groupsAttribute: the groups' Graph ids"],
      [
        {},
        { groups: gid(1) },
        'data.object_id is required: it is the unique attribute of spec.mappings.identity (Graph id)',
      ],
    ];
    for (const [data, input, message] of cases) {
      const res = await w.invoke('entra-accounts', 'addUserToGroups', data, input);
      expect(res.status, message).toBe(400);
      expect(res.body.error).toBe(message);
    }
    expect(w.sim.graphCalls()).toEqual([]);
  });

  it('fails a group whose POST Graph throttles (a POST is never resent) and says how to finish', async () => {
    w.sim.fault({ path: new RegExp(`/groups/${gid(2)}/members`), status: 429, retryAfter: 1, times: 1 });
    const groups = [gid(1), gid(2), gid(3)];
    const res = await w.invoke('entra-accounts', 'addUserToGroups', { object_id: BOB }, { groups });
    expect(res.body.state).toBe('Exception');
    expect(res.body.exception).toContain(
      `1 of 3 group(s) failed. Group ${gid(2)}: POST /v1.0/groups/${gid(2)}/members/$ref answered HTTP 429 Too Many ` +
        `Requests: TooManyRequests: Too many requests.; not sent again (a POST is never repeated within one call, so ` +
        `that nothing is created twice): invoke again later. Done: ${gid(1)}, ${gid(3)}`,
    );
    expect(writes().filter((r) => r.path.includes(gid(2)))).toHaveLength(1);
    const again = await w.invoke(
      'entra-accounts',
      'addUserToGroups',
      { object_id: BOB },
      { groups, ignoreExisting: true },
    );
    expect(again.body).toMatchObject({ state: 'Completed', response: { groups, unchanged: [gid(1), gid(3)] } });
    for (const g of groups) expect(members(g)).toEqual([BOB]);
  });

  it('answers a replay with the same Idempotency-Key from the first answer, without calling Graph again', async () => {
    const headers = { 'idempotency-key': 'wf-add-ada-1' };
    const first = await w.invoke('entra-accounts', 'addUserToGroups', { object_id: ADA }, { groups: gid(1) }, headers);
    const calls = w.sim.graphCalls().length;
    const again = await w.invoke('entra-accounts', 'addUserToGroups', { object_id: ADA }, { groups: gid(1) }, headers);
    expect(first.body.state).toBe('Completed');
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(w.sim.graphCalls()).toHaveLength(calls);
  });

  it('adds 40 users to one group in a concurrent burst, each Completed, the members exactly right', async () => {
    const users = Array.from({ length: 40 }, (_, i) => uid(100 + i));
    for (const u of users) w.sim.dir.addUser({ id: u, displayName: u });
    const results = await Promise.all(
      users.map((u) => w.invoke('entra-accounts', 'addUserToGroups', { object_id: u }, { groups: gid(4) })),
    );
    expect(results.map((r) => r.body.state)).toEqual(users.map(() => 'Completed'));
    expect(members(gid(4))).toEqual([...users].sort());
  });
});

describe('removeUserFromGroups', () => {
  it('DELETEs members/{id}/$ref; a non-member fails that group unless ignoreExisting', async () => {
    const res = await w.invoke(
      'entra-accounts',
      'removeUserFromGroups',
      { object_id: ADA },
      { groups: [gid(6), gid(1)] },
    );
    expect(res.body.state).toBe('Exception');
    expect(res.body.response).toEqual({ user: ADA, groups: [gid(6)] });
    expect(res.body.exception).toBe(
      `removeUserFromGroups: 1 of 2 group(s) failed. Group ${gid(1)}: user ${ADA} is not a member (DELETE ` +
        `/v1.0/groups/${gid(1)}/members/${ADA}/$ref answered HTTP 404 Not Found: Request_ResourceNotFound: Resource ` +
        `'${ADA}' does not exist or one of its queried reference-property objects are not present.); set ` +
        `input.ignoreExisting to accept that. Done: ${gid(6)}.`,
    );
    expect(members(gid(6))).toEqual([]);
    const ignored = await w.invoke(
      'entra-accounts',
      'removeUserFromGroups',
      { object_id: ADA },
      { groups: [gid(1)], ignoreExisting: true },
    );
    expect(ignored.body).toMatchObject({ state: 'Completed', response: { groups: [gid(1)], unchanged: [gid(1)] } });
  });

  it('tells a missing group from a non-member by the object Graph’s 404 names', async () => {
    const missing = gid(99);
    const res = await w.invoke(
      'entra-accounts',
      'removeUserFromGroups',
      { object_id: ADA },
      { groups: missing, ignoreExisting: true },
    );
    expect(res.body.state).toBe('Exception');
    expect(res.body.exception).toContain(
      `Group ${missing}: DELETE /v1.0/groups/${missing}/members/${ADA}/$ref answered`,
    );
    expect(res.body.exception).toContain(`Resource '${missing}' does not exist`);
    expect(res.body.exception).not.toContain('is not a member');
  });

  it('waits out a 429 on a DELETE and is Completed', async () => {
    w.sim.fault({ path: /members\/.*\/\$ref/, status: 429, retryAfter: 0, times: 1 });
    const res = await w.invoke('entra-accounts', 'removeUserFromGroups', { object_id: ADA }, { groups: gid(6) });
    expect(res.body).toMatchObject({ state: 'Completed', response: { groups: [gid(6)] } });
    expect(writes().map((r) => r.status)).toEqual([429, 204]);
  });
});

describe('verifyGroupMembership', () => {
  it('answers member true or false from the group’s direct members, across pages', async () => {
    w.sim.pageCap = 1;
    w.sim.dir.members.get(gid(6))?.add(BOB);
    try {
      const bob = await w.invoke('entra-accounts', 'verifyGroupMembership', { object_id: BOB }, { group: gid(6) });
      expect(bob.body).toMatchObject({ state: 'Completed', response: { member: true } });
      const no = await w.invoke(
        'entra-accounts',
        'verifyGroupMembership',
        { object_id: BOB, roles: [gid(1)] },
        { groupsAttribute: 'roles' },
      );
      expect(no.body).toMatchObject({ state: 'Completed', response: { member: false } });
    } finally {
      w.sim.pageCap = 999;
    }
    const reads = w.sim.graphCalls().filter((r) => r.path.endsWith('/members'));
    expect(reads[0].query.get('$select')).toBe('id');
    expect(reads.length).toBeGreaterThan(2);
  });

  it('answers per group when several are asked, and refuses ignoreExisting (400)', async () => {
    const res = await w.invoke(
      'entra-accounts',
      'verifyGroupMembership',
      { object_id: ADA },
      { group: [gid(6), gid(1)] },
    );
    expect(res.body.response).toEqual({ member: false, groups: { [gid(6)]: true, [gid(1)]: false } });
    const bad = await w.invoke(
      'entra-accounts',
      'verifyGroupMembership',
      { object_id: ADA },
      { group: gid(6), ignoreExisting: true },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe(
      'unknown input field(s) "ignoreExisting": verifyGroupMembership takes group, groupsAttribute',
    );
  });
});

describe('createGroup, updateGroup, deleteGroup', () => {
  it('creates a group from the access mapping (201, {id, displayName})', async () => {
    const res = await w.invoke('entra-accounts', 'createGroup', {
      display_name: 'Finance',
      mail_nickname: 'finance',
      mail_enabled: false,
      security_enabled: true,
      description: 'All of finance',
    });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 201, response: { displayName: 'Finance' } });
    const created = w.sim.dir.groups.get(res.body.response.id);
    expect(created).toMatchObject({ displayName: 'Finance', mailNickname: 'finance', description: 'All of finance' });
    expect(JSON.parse(writes()[0].body ?? '')).toEqual({
      displayName: 'Finance',
      mailNickname: 'finance',
      mailEnabled: false,
      securityEnabled: true,
      description: 'All of finance',
    });
  });

  it('waits out a 429 and a 503 on a PATCH and is Completed', async () => {
    w.sim.fault({ path: new RegExp(`/groups/${gid(2)}$`), status: 429, retryAfter: 0, times: 1 });
    w.sim.fault({ path: new RegExp(`/groups/${gid(2)}$`), status: 503, retryAfter: 0, times: 1 });
    const res = await w.invoke('entra-accounts', 'updateGroup', { object_id: gid(2), display_name: 'Group two' });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(writes().map((r) => r.status)).toEqual([429, 503, 204]);
    expect(w.sim.dir.groups.get(gid(2))?.displayName).toBe('Group two');
  });

  it('refuses a create without a needed property (400 naming the data attribute)', async () => {
    const res = await w.invoke('entra-accounts', 'createGroup', {
      display_name: 'X',
      mail_nickname: 'x',
      mail_enabled: false,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('data.security_enabled is required: createGroup sends it as the Graph securityEnabled');
  });

  it('PATCHes the mapped properties data holds (204) and DELETEs (204); Graph’s 404 is an Exception', async () => {
    const up = await w.invoke('entra-accounts', 'updateGroup', { object_id: gid(3), description: 'Renamed' });
    expect(up.body).toMatchObject({ state: 'Completed', statusCode: 204, response: { id: gid(3) } });
    expect(w.sim.dir.groups.get(gid(3))?.description).toBe('Renamed');
    expect(JSON.parse(writes()[0].body ?? '')).toEqual({ description: 'Renamed' });
    const del = await w.invoke('entra-accounts', 'deleteGroup', { object_id: gid(3) });
    expect(del.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(w.sim.dir.groups.has(gid(3))).toBe(false);
    const gone = await w.invoke('entra-accounts', 'deleteGroup', { object_id: gid(3) });
    expect(gone.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(gone.body.exception).toContain('Request_ResourceNotFound');
    const notGuid = await w.invoke('entra-accounts', 'deleteGroup', { object_id: 'Sales' });
    expect(notGuid.status).toBe(400);
    expect(notGuid.body.error).toContain('data.object_id holds "Sales", which is not a Graph group id');
  });
});
