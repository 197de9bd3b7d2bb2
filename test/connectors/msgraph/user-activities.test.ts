/**
 * The Graph user activities end to end: the invoke endpoint of a controller runtime, Graph event tasks, the real
 * MSAL, and the Graph simulator over HTTPS (test/peers/msgraph, user writes in user-writes.ts). What a workflow
 * sees (state, statusCode, response, exception), what Graph received (sim.requests), what the tenant holds
 * afterwards, and that no password reaches a log line, an Exception or a replayed answer.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalTarget } from '../../../src/targets/local/local-target.js';
import type { Card } from '../../../src/targets/types.js';
import type { LoggedRequest } from '../../peers/msgraph/index.js';
import { PASSWORD_COMPLEXITY, UPN_TAKEN, userWriteState } from '../../peers/msgraph/user-writes.js';
import type { WriteHandler } from '../../peers/msgraph/writes.js';
import {
  ACCOUNT_MAPPINGS,
  DEFAULT_PASSWORD,
  eventTaskYaml,
  type GraphEventWorld,
  startGraphEventWorld,
} from './event-fixture.js';

const DEFAULT_PW = `\n    timeout: 10s\n    password: {mode: default, secretRef: {name: first-login}}`;
const GENERATED_PW = `\n    timeout: 10s\n    password: {mode: generated}`;
const NO_PW = '\n    timeout: 10s';
const LATER_PW = `\n    timeout: 10s\n    password: {mode: default, secretRef: {name: first-login-later}}`;

/** Identity mapped with userPrincipalName unique (the object id read, not unique). */
const BY_UPN = `
    identity:
      template: iga_account
      attributes:
        - {external: userPrincipalName, local: upn, unique: true}
        - {external: id, local: object_id}
        - {external: displayName, local: display_name}
        - {external: department, local: department}
        - {external: onPremisesExtensionAttributes.extensionAttribute1, local: iga_id}`;

/** Without mailNickname: createUser cannot run. */
const NO_NICKNAME = `
    identity:
      template: iga_account
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: displayName, local: display_name}
        - {external: userPrincipalName, local: upn}`;

let w: GraphEventWorld;

beforeAll(async () => {
  w = await startGraphEventWorld(
    () =>
      eventTaskYaml('graph-users', 'identityAndAccess', DEFAULT_PW, ACCOUNT_MAPPINGS) +
      eventTaskYaml('graph-generated', 'identityAndAccess', GENERATED_PW, ACCOUNT_MAPPINGS) +
      eventTaskYaml('graph-no-password', 'identityAndAccess', NO_PW, ACCOUNT_MAPPINGS) +
      eventTaskYaml('graph-later-secret', 'identityAndAccess', LATER_PW, ACCOUNT_MAPPINGS) +
      eventTaskYaml('graph-by-upn', 'identity', DEFAULT_PW, BY_UPN) +
      eventTaskYaml('graph-no-nickname', 'identity', DEFAULT_PW, NO_NICKNAME),
  );
});

afterAll(async () => {
  await w?.close();
});

const USER_IDS = Array.from({ length: 50 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
const ADA = USER_IDS[0];

beforeEach(() => {
  for (const id of [...w.sim.dir.users.keys()]) w.sim.dir.deleteUser(id);
  const state = userWriteState(w.sim);
  state.passwords.clear();
  state.photos.clear();
  state.deleted.clear();
  state.userAdministrator = true;
  w.sim.writeHandlers.splice(0, w.sim.writeHandlers.length - 3);
  for (const [i, id] of USER_IDS.entries()) {
    w.sim.dir.addUser({
      id,
      displayName: i === 0 ? 'Ada Lovelace' : `User ${i}`,
      userPrincipalName: i === 0 ? 'ada@contoso.com' : `user${i}@contoso.com`,
      mailNickname: i === 0 ? 'ada' : `user${i}`,
      givenName: i === 0 ? 'Ada' : null,
      department: 'Analytics',
      accountEnabled: true,
      onPremisesExtensionAttributes: { extensionAttribute1: `IGA-${i}` },
    });
  }
  w.sim.dir.addUser({
    id: 'c0ffee00-0000-4000-8000-000000000001',
    displayName: "Conan O'Brien",
    userPrincipalName: "o'brien@contoso.com",
    department: 'Comedy',
  });
  w.sim.reset();
  w.logs.clear();
});

/** The context the invocation service gives a handler, for what the endpoint does not show (`load`). */

const writes = (method?: string): LoggedRequest[] =>
  w.sim.graphCalls().filter((r) => (method ? r.method === method : r.method !== 'GET'));
const bodyOf = (r: LoggedRequest): unknown => JSON.parse(r.body ?? '');
const newUser = {
  display_name: 'Grace Hopper',
  mail_nickname: 'grace',
  upn: 'grace@contoso.com',
  first_name: 'Grace',
  last_name: 'Hopper',
  department: 'Navy',
};
const byUpn = (upn: string) => [...w.sim.dir.users.values()].find((u) => u.userPrincipalName === upn);

describe('createUser', () => {
  it('POSTs the mapped properties, enabled, with the default password; 201 {id, userPrincipalName}', async () => {
    const res = await w.invoke('graph-users', 'createUser', newUser);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 201, exception: null });
    const id = res.body.response.id as string;
    expect(res.body.response).toEqual({ id, userPrincipalName: 'grace@contoso.com' });
    expect(writes()).toHaveLength(1);
    expect(writes()[0]).toMatchObject({ method: 'POST', path: '/v1.0/users' });
    expect(bodyOf(writes()[0])).toEqual({
      displayName: 'Grace Hopper',
      mailNickname: 'grace',
      userPrincipalName: 'grace@contoso.com',
      givenName: 'Grace',
      surname: 'Hopper',
      department: 'Navy',
      accountEnabled: true,
      passwordProfile: { password: DEFAULT_PASSWORD, forceChangePasswordNextSignIn: true },
    });
    expect(w.sim.dir.users.get(id)).toMatchObject({ displayName: 'Grace Hopper', accountEnabled: true });
    expect(userWriteState(w.sim).passwords.get(id)).toEqual({
      password: DEFAULT_PASSWORD,
      forceChangePasswordNextSignIn: true,
    });
    expect(w.logs.text()).not.toContain(DEFAULT_PASSWORD);
    expect(res.text).not.toContain(DEFAULT_PASSWORD);
  });

  it('takes forceChangePasswordNextSignIn false and a mapped accountEnabled', async () => {
    const res = await w.invoke(
      'graph-users',
      'createUser',
      { ...newUser, enabled: false },
      { forceChangePasswordNextSignIn: false },
    );
    expect(res.body.state).toBe('Completed');
    const id = res.body.response.id as string;
    expect(w.sim.dir.users.get(id)?.accountEnabled).toBe(false);
    expect(userWriteState(w.sim).passwords.get(id)?.forceChangePasswordNextSignIn).toBe(false);
  });

  it('a generated password meets Entra complexity, is answered once, and is in no log line or replay', async () => {
    const headers = { 'Idempotency-Key': 'create-grace-1' };
    const res = await w.invoke('graph-generated', 'createUser', newUser, {}, headers);
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 201, exception: null });
    const { id, password } = res.body.response as { id: string; password: string };
    expect(res.body.response).toEqual({ id, userPrincipalName: 'grace@contoso.com', password });
    expect(password).toMatch(/[a-z]/);
    expect(password).toMatch(/[A-Z]/);
    expect(password).toMatch(/[0-9]/);
    expect(password).toMatch(/[^A-Za-z0-9]/);
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(userWriteState(w.sim).passwords.get(id)?.password).toBe(password);
    expect(w.logs.text()).not.toContain(password);

    // A second user gets another password.
    const other = await w.invoke('graph-generated', 'createUser', {
      ...newUser,
      upn: 'grace2@contoso.com',
      mail_nickname: 'grace2',
    });
    expect(other.body.response.password).not.toBe(password);

    // The replay answers from the store: the same user, without the password, saying why.
    const replay = await w.invoke('graph-generated', 'createUser', newUser, {}, headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).not.toContain(password);
    expect(replay.body.response).toEqual({
      id,
      userPrincipalName: 'grace@contoso.com',
      passwordOmitted: 'the generated password is given only in the first answer of this call',
    });
    expect(writes('POST')).toHaveLength(2);
    expect(w.logs.text()).not.toContain(password);
  });

  it('a Graph refusal that echoes the password carries it into no Exception and no log line', async () => {
    // An upstream that repeats what it was sent, as some error messages do.
    const echo: WriteHandler = (req) => {
      if (req.method !== 'POST' || req.path !== '/users') return undefined;
      const sent = JSON.parse(req.body) as { passwordProfile: { password: string } };
      return {
        status: 400,
        body: {
          error: { code: 'Request_BadRequest', message: `Password '${sent.passwordProfile.password}' refused.` },
        },
      };
    };
    w.sim.writeHandlers.unshift(echo);
    for (const task of ['graph-users', 'graph-generated']) {
      const res = await w.invoke(task, 'createUser', newUser);
      const sent = (bodyOf(writes('POST').at(-1) as LoggedRequest) as { passwordProfile: { password: string } })
        .passwordProfile.password;
      expect(res.body).toMatchObject({ state: 'Exception', statusCode: 400 });
      expect(res.body.exception).toBe(
        "POST /v1.0/users answered HTTP 400 Bad Request: Request_BadRequest: Password '[redacted]' refused.",
      );
      expect(res.text).not.toContain(sent);
      expect(w.logs.text()).not.toContain(sent);
    }
  });

  it('a missing password Secret, or one without a password key, is an Exception naming the field', async () => {
    const missing = await w.invoke('graph-later-secret', 'createUser', newUser);
    expect(missing.body).toMatchObject({ state: 'Exception', response: null });
    expect(missing.body.exception).toMatch(/^spec\.event\.password\.secretRef: .*first-login-later/);
    w.secrets.write('first-login-later', { passphrase: 'not-the-key' });
    const noKey = await w.invoke('graph-later-secret', 'resetPassword', { object_id: ADA });
    expect(noKey.body).toMatchObject({
      state: 'Exception',
      exception: 'secret "first-login-later" has no key "password" (spec.event.password.secretRef)',
    });
    expect(w.sim.graphCalls()).toHaveLength(0);
  });

  it("a taken userPrincipalName is an Exception with Graph's code and message", async () => {
    const res = await w.invoke('graph-users', 'createUser', { ...newUser, upn: 'ada@contoso.com' });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 400 });
    expect(res.body.exception).toBe(`POST /v1.0/users answered HTTP 400 Bad Request: Request_BadRequest: ${UPN_TAKEN}`);
    expect(res.body.exception).toContain(
      'Request_BadRequest: Another object with the same value for property userPrincipalName already exists.',
    );
    expect(res.body.response).toMatchObject({ error: { code: 'Request_BadRequest', message: UPN_TAKEN } });
  });

  it('gives a generated password also when the outcome is unknown (a 5xx), never when Graph refused', async () => {
    w.sim.fault({ path: /^\/v1\.0\/users$/, status: 503, times: 1 });
    const unknown = await w.invoke('graph-generated', 'createUser', newUser);
    expect(unknown.body).toMatchObject({ state: 'Exception', statusCode: 503 });
    expect(unknown.body.response.outcome).toBe('unknown: Graph may have applied this password; use it, or reset it');
    expect(unknown.body.response.password).toMatch(/^.{16,}$/);
    expect(unknown.body.exception).not.toContain(unknown.body.response.password);
    expect(w.logs.text()).not.toContain(unknown.body.response.password);
    const refused = await w.invoke('graph-generated', 'createUser', { ...newUser, upn: 'grace@fabrikam.com' });
    expect(refused.body).toMatchObject({ state: 'Exception', statusCode: 400 });
    expect(refused.body.response).not.toHaveProperty('password');
    const dots = await w.invoke('graph-users', 'deleteUser', { object_id: '..' });
    expect(dots).toMatchObject({ status: 400, body: { error: 'data.object_id ".." is not a Graph object id' } });
  });

  it('an unverified domain is an Exception naming it, and a POST answered 429 is not sent again', async () => {
    const domain = await w.invoke('graph-users', 'createUser', { ...newUser, upn: 'grace@fabrikam.com' });
    expect(domain.body.exception).toMatch(/Request_BadRequest: The domain portion of the userPrincipalName property/);
    w.sim.reset();
    w.sim.fault({ path: /^\/v1\.0\/users$/, status: 429, retryAfter: 1, times: 1 });
    const res = await w.invoke('graph-users', 'createUser', newUser);
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 429 });
    expect(res.body.exception).toBe(
      'POST /v1.0/users answered HTTP 429 Too Many Requests: TooManyRequests: Too many requests.; not sent again ' +
        '(a POST is never repeated within one call, so that nothing is created twice): invoke again later',
    );
    expect(writes('POST')).toHaveLength(1);
    expect(byUpn('grace@contoso.com')).toBeUndefined();
  });

  it('bad invocations are 400 naming the field, and nothing is sent', async () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        'graph-users',
        newUser,
        { forceChangePasswordNextSignIn: 'yes' },
        'input.forceChangePasswordNextSignIn must be true or false (createUser; default true)',
      ],
      [
        'graph-users',
        newUser,
        { password: 'x' },
        'unknown input field(s) "password": createUser takes forceChangePasswordNextSignIn',
      ],
      [
        'graph-users',
        { ...newUser, upn: undefined },
        {},
        'data.upn is required: createUser sends it as the Graph userPrincipalName',
      ],
      [
        'graph-no-nickname',
        newUser,
        {},
        'createUser needs a mapping of the Graph mailNickname in spec.mappings.identity',
      ],
      [
        'graph-no-password',
        newUser,
        {},
        'createUser needs spec.event.password on the task (mode: default with a secretRef, or mode: generated)',
      ],
    ];
    for (const [task, data, input, error] of cases) {
      const res = await w.invoke(task, 'createUser', JSON.parse(JSON.stringify(data)), input);
      expect(res, error).toMatchObject({ status: 400, body: { error } });
    }
    expect(w.sim.requests).toHaveLength(0);
  });
});

describe('updateUser', () => {
  it('PATCHes only the mapped properties present in data (a null clears), 204', async () => {
    const res = await w.invoke('graph-users', 'updateUser', {
      object_id: ADA,
      first_name: 'Augusta',
      department: null,
      unmapped: 'ignored',
    });
    expect(res.body).toEqual(
      expect.objectContaining({ state: 'Completed', statusCode: 204, response: { id: ADA }, exception: null }),
    );
    expect(writes()).toHaveLength(1);
    expect(writes()[0]).toMatchObject({ method: 'PATCH', path: `/v1.0/users/${ADA}` });
    expect(bodyOf(writes()[0])).toEqual({ givenName: 'Augusta', department: null });
    expect(w.sim.dir.users.get(ADA)).toMatchObject({ givenName: 'Augusta', department: null });
  });

  it('sends a photo (base64 or a data URL) to /photo/$value as bytes', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9]);
    const res = await w.invoke('graph-users', 'updateUser', { object_id: ADA, photo: jpeg.toString('base64') });
    expect(res.body).toMatchObject({ state: 'Completed', exception: null });
    expect(writes()).toEqual([expect.objectContaining({ method: 'PUT', path: `/v1.0/users/${ADA}/photo/$value` })]);
    expect(writes()[0].headers['content-type']).toBe('image/jpeg');
    expect(userWriteState(w.sim).photos.get(ADA)).toEqual({ type: 'image/jpeg', bytes: jpeg });

    w.sim.reset();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const both = await w.invoke('graph-users', 'updateUser', {
      object_id: ADA,
      department: 'Engines',
      photo: `data:image/png;base64,${png.toString('base64')}`,
    });
    expect(both.body.state).toBe('Completed');
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /v1.0/users/${ADA}`,
      `PUT /v1.0/users/${ADA}/photo/$value`,
    ]);
    expect(bodyOf(writes()[0])).toEqual({ department: 'Engines' });
    expect(userWriteState(w.sim).photos.get(ADA)).toEqual({ type: 'image/png', bytes: png });
  });

  it('a null photo removes it (already done when there is none); an unknown user is still an Exception', async () => {
    userWriteState(w.sim).photos.set(ADA, { type: 'image/jpeg', bytes: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) });
    const res = await w.invoke('graph-users', 'updateUser', { object_id: ADA, photo: null });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(writes()).toEqual([expect.objectContaining({ method: 'DELETE', path: `/v1.0/users/${ADA}/photo/$value` })]);
    expect(userWriteState(w.sim).photos.has(ADA)).toBe(false);
    const again = await w.invoke('graph-users', 'updateUser', { object_id: ADA, photo: null });
    expect(again.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    const nobody = await w.invoke('graph-users', 'updateUser', { object_id: 'nobody', photo: null });
    expect(nobody.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(nobody.body.exception).toMatch(
      /^DELETE \/v1\.0\/users\/nobody\/photo\/\$value answered HTTP 404 Not Found: Request_ResourceNotFound: Resource 'nobody' does not exist/,
    );
  });

  it('a photo over 4 MB is a 400 naming the attribute and its size, before any request', async () => {
    // The invoke endpoint takes bodies of up to 6 MiB: a 4 MB photo as base64 (5.6 MB) reaches the activity.
    const big = Buffer.alloc(4 * 1024 * 1024 + 10, 7).toString('base64');
    const over = await w.invoke('graph-users', 'updateUser', { object_id: ADA, department: 'X', photo: big });
    expect(over).toMatchObject({
      status: 400,
      body: { error: 'data.photo is a photo of 4.0 MB (4194314 bytes): Graph takes at most 4 MB (4194304 bytes)' },
    });
    const most = Buffer.alloc(4 * 1024 * 1024, 7).toString('base64');
    const fits = await w.invoke('graph-users', 'updateUser', {
      object_id: ADA,
      photo: `data:image/jpeg;base64,${most}`,
    });
    expect(fits.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(userWriteState(w.sim).photos.get(ADA)?.bytes.length).toBe(4 * 1024 * 1024);
    w.sim.reset();
    const bad = await w.invoke('graph-users', 'updateUser', { object_id: ADA, photo: 'not base64!' });
    expect(bad).toMatchObject({
      status: 400,
      body: {
        error:
          'data.photo must be the photo as base64 or as a data:image/jpeg;base64,... URL (it maps the Graph photo)',
      },
    });
    expect(w.sim.requests).toHaveLength(0);
  });

  it('bad invocations are 400 naming the field', async () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        'updateUser',
        { first_name: 'X' },
        {},
        'data.object_id is required: it is the unique attribute of spec.mappings.identity (Graph id)',
      ],
      [
        'updateUser',
        { object_id: ADA, unmapped: 1 },
        {},
        'updateUser: data holds none of the attributes spec.mappings.identity maps besides data.object_id',
      ],
      [
        'updateUser',
        { object_id: ADA, department: 'X' },
        { force: true },
        'unknown input field(s) "force": updateUser reads only data',
      ],
      [
        'deleteUser',
        {},
        {},
        'data.object_id is required: it is the unique attribute of spec.mappings.identity (Graph id)',
      ],
      ['readUser', { object_id: ADA }, { load: 'yes' }, 'input.load must be true or false (readUser; default false)'],
      [
        'resetPassword',
        { object_id: ADA },
        { forceChangePasswordNextSignIn: 1 },
        'input.forceChangePasswordNextSignIn must be true or false (resetPassword; default true)',
      ],
    ];
    for (const [activity, data, input, error] of cases) {
      const res = await w.invoke('graph-users', activity, data, input);
      expect(res, error).toMatchObject({ status: 400, body: { error } });
    }
    const none = await w.invoke('graph-no-password', 'resetPassword', { object_id: ADA });
    expect(none.body.error).toBe(
      'resetPassword needs spec.event.password on the task (mode: default with a secretRef, or mode: generated)',
    );
    expect(w.sim.requests).toHaveLength(0);
  });

  it('a 429 or 503 on the PATCH is waited out within spec.event.timeout', async () => {
    w.sim.fault({ path: new RegExp(`^/v1\\.0/users/${ADA}$`), status: 429, retryAfter: 1, times: 1 });
    w.sim.fault({ path: new RegExp(`^/v1\\.0/users/${ADA}$`), status: 503, retryAfter: 0, times: 1 });
    const res = await w.invoke('graph-users', 'updateUser', { object_id: ADA, department: 'Engines' });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(writes('PATCH').map((r) => r.status)).toEqual([429, 503, 204]);
    expect(w.sim.dir.users.get(ADA)?.department).toBe('Engines');
  });

  it("an unknown user is an Exception with Graph's 404", async () => {
    const res = await w.invoke('graph-users', 'updateUser', { object_id: 'nobody', department: 'X' });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(res.body.exception).toBe(
      "PATCH /v1.0/users/nobody answered HTTP 404 Not Found: Request_ResourceNotFound: Resource 'nobody' does not exist or one of its queried reference-property objects are not present.",
    );
  });

  it('a burst of 50 parallel updates all complete, each user patched exactly once', async () => {
    const results = await Promise.all(
      USER_IDS.map((id, i) => w.invoke('graph-users', 'updateUser', { object_id: id, department: `Dept ${i}` })),
    );
    expect(results.map((r) => r.body.state)).toEqual(USER_IDS.map(() => 'Completed'));
    const patches = writes('PATCH');
    expect(patches).toHaveLength(50);
    expect(new Set(patches.map((r) => r.path)).size).toBe(50);
    for (const [i, id] of USER_IDS.entries()) expect(w.sim.dir.users.get(id)?.department).toBe(`Dept ${i}`);
    // One token for the whole burst: the session is shared.
    expect(w.sim.logins.length).toBeLessThanOrEqual(1);
  });

  it("finds the user by a unique userPrincipalName with the quote doubled in $filter (O'Brien)", async () => {
    const res = await w.invoke('graph-by-upn', 'updateUser', { upn: "o'brien@contoso.com", department: 'Late Night' });
    expect(res.body).toMatchObject({ state: 'Completed', response: { id: 'c0ffee00-0000-4000-8000-000000000001' } });
    const lookup = w.sim.graphCalls().find((r) => r.method === 'GET' && r.path === '/v1.0/users');
    expect(lookup?.query.get('$filter')).toBe("userPrincipalName eq 'o''brien@contoso.com'");
    expect(writes()).toEqual([
      expect.objectContaining({ method: 'PATCH', path: '/v1.0/users/c0ffee00-0000-4000-8000-000000000001' }),
    ]);
    // The unique attribute names the user; it is not sent back.
    expect(bodyOf(writes()[0])).toEqual({ department: 'Late Night' });
    const none = await w.invoke('graph-by-upn', 'deleteUser', { upn: 'nobody@contoso.com' });
    expect(none.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(none.body.exception).toBe("no Graph user in /users has userPrincipalName 'nobody@contoso.com' (data.upn)");
  });
});

describe('deleteUser, activateUser, deactivateUser', () => {
  it('DELETE soft-deletes the user, 204; a second delete is an Exception', async () => {
    const res = await w.invoke('graph-users', 'deleteUser', { object_id: ADA });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 204, response: { id: ADA } });
    expect(writes()).toEqual([expect.objectContaining({ method: 'DELETE', path: `/v1.0/users/${ADA}` })]);
    expect(w.sim.dir.users.has(ADA)).toBe(false);
    expect(userWriteState(w.sim).deleted.has(ADA)).toBe(true);
    const again = await w.invoke('graph-users', 'deleteUser', { object_id: ADA });
    expect(again.body).toMatchObject({ state: 'Exception', statusCode: 404 });
  });

  it('deactivateUser and activateUser PATCH accountEnabled', async () => {
    const off = await w.invoke('graph-users', 'deactivateUser', { object_id: ADA });
    expect(off.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(w.sim.dir.users.get(ADA)?.accountEnabled).toBe(false);
    const on = await w.invoke('graph-users', 'activateUser', { object_id: ADA });
    expect(on.body).toMatchObject({ state: 'Completed', statusCode: 204 });
    expect(w.sim.dir.users.get(ADA)?.accountEnabled).toBe(true);
    expect(writes().map(bodyOf)).toEqual([{ accountEnabled: false }, { accountEnabled: true }]);
  });
});

describe('resetPassword', () => {
  it('PATCHes passwordProfile with the default password; nothing answers or logs it', async () => {
    const res = await w.invoke(
      'graph-users',
      'resetPassword',
      { object_id: ADA },
      { forceChangePasswordNextSignIn: false },
    );
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 204, response: { id: ADA }, exception: null });
    expect(bodyOf(writes()[0])).toEqual({
      passwordProfile: { password: DEFAULT_PASSWORD, forceChangePasswordNextSignIn: false },
    });
    expect(userWriteState(w.sim).passwords.get(ADA)).toEqual({
      password: DEFAULT_PASSWORD,
      forceChangePasswordNextSignIn: false,
    });
    expect(res.text).not.toContain(DEFAULT_PASSWORD);
    expect(w.logs.text()).not.toContain(DEFAULT_PASSWORD);
  });

  it('a generated password is set and given in the first answer only, never logged, stored or replayed', async () => {
    const key = { 'idempotency-key': 'wf-reset-ada-1' };
    const res = await w.invoke('graph-generated', 'resetPassword', { object_id: ADA }, {}, key);
    const stored = userWriteState(w.sim).passwords.get(ADA);
    expect(stored?.forceChangePasswordNextSignIn).toBe(true);
    expect(stored?.password).toMatch(/^.{16,}$/);
    expect(res.body).toMatchObject({
      state: 'Completed',
      statusCode: 204,
      response: { id: ADA, password: stored?.password },
    });
    const replay = await w.invoke('graph-generated', 'resetPassword', { object_id: ADA }, {}, key);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.response).toEqual({
      id: ADA,
      passwordOmitted: 'the generated password is given only in the first answer of this call',
    });
    expect(replay.text).not.toContain(stored?.password);
    expect(w.logs.text()).not.toContain(stored?.password);
  });

  it('a 403 says which role the app lacks; a too simple password is an Exception', async () => {
    userWriteState(w.sim).userAdministrator = false;
    const res = await w.invoke('graph-users', 'resetPassword', { object_id: ADA });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 403 });
    expect(res.body.exception).toBe(
      `PATCH /v1.0/users/${ADA} answered HTTP 403 Forbidden: Authorization_RequestDenied: Insufficient privileges to complete the operation.; resetting a password app-only needs User.ReadWrite.All and the User Administrator role (Privileged Authentication Administrator for an admin account)`,
    );
    userWriteState(w.sim).userAdministrator = true;
    w.secrets.write('first-login', { password: 'simple' });
    try {
      const weak = await w.invoke('graph-users', 'resetPassword', { object_id: ADA });
      expect(weak.body).toMatchObject({ state: 'Exception', statusCode: 400 });
      expect(weak.body.exception).toContain(`Request_BadRequest: ${PASSWORD_COMPLEXITY}`);
    } finally {
      w.secrets.write('first-login', { password: DEFAULT_PASSWORD });
    }
  });
});

describe('readUser', () => {
  it('GETs the mapped properties and answers the card attributes by local name', async () => {
    const res = await w.invoke('graph-users', 'readUser', { object_id: ADA });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 200, exception: null });
    expect(res.body.response).toEqual({
      object_id: ADA,
      display_name: 'Ada Lovelace',
      mail_nickname: 'ada',
      upn: 'ada@contoso.com',
      first_name: 'Ada',
      last_name: null,
      department: 'Analytics',
      enabled: true,
    });
    const get = w.sim.graphCalls().find((r) => r.path === `/v1.0/users/${ADA}`);
    expect(get?.query.get('$select')).toBe(
      'id,displayName,mailNickname,userPrincipalName,givenName,surname,department,accountEnabled',
    );
  });

  it('reads nested properties, by a unique userPrincipalName', async () => {
    const res = await w.invoke('graph-by-upn', 'readUser', { upn: 'ada@contoso.com' }, { load: false });
    expect(res.body.response).toEqual({
      upn: 'ada@contoso.com',
      object_id: ADA,
      display_name: 'Ada Lovelace',
      department: 'Analytics',
      iga_id: 'IGA-0',
    });
  });

  it('with load, also writes the user into the task’s cards, mapped as a scheduled run maps it', async () => {
    const cards = async (): Promise<Card[]> => {
      const target = new LocalTarget(join(w.stateDir, 'cards.db'));
      try {
        const out: Card[] = [];
        for await (const c of target.list('iga_account')) out.push(c);
        return out.filter((c) => c.object_id === ADA);
      } finally {
        await target.close();
      }
    };
    const plain = await w.invoke('graph-users', 'readUser', { object_id: ADA });
    expect(plain.body.state).toBe('Completed');
    expect(await cards()).toEqual([]);
    const res = await w.invoke('graph-users', 'readUser', { object_id: ADA }, { load: true });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 200, response: plain.body.response });
    expect(await cards()).toEqual([
      expect.objectContaining({ object_id: ADA, display_name: 'Ada Lovelace', upn: 'ada@contoso.com', enabled: true }),
    ]);
    w.sim.dir.updateUser(ADA, { department: 'Engines' });
    await w.invoke('graph-users', 'readUser', { object_id: ADA }, { load: true });
    expect(await cards()).toEqual([expect.objectContaining({ object_id: ADA, department: 'Engines' })]);
    expect(w.logs.text()).toContain('activity records loaded into cards');
  });
});
