/**
 * Pins the simulator's user writes to msgraph-api.md "Writes", over HTTPS with a token from its endpoint: creates
 * with their required properties, verified domains, UPN uniqueness and password complexity; PATCH, password
 * reset and its role; soft delete; photos. A failure here means the simulator drifted, not the connector.
 */
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../tls.js';
import { GraphSimulator } from './index.js';
import {
  INSUFFICIENT,
  MAX_PHOTO_BYTES,
  PASSWORD_COMPLEXITY,
  UNVERIFIED_DOMAIN,
  UPN_TAKEN,
  userWriteState,
} from './user-writes.js';

// biome-ignore lint/suspicious/noExplicitAny: Graph's answers are read loosely here; the assertions pin their shape.
type Json = Record<string, any>;

const app = { tenantId: 'tenant-1', clientId: 'client-1', clientSecret: 'secret-1' };
let pki: TestPki;
let sim: GraphSimulator;
let agent: Agent;
let token: string;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const bytes = body instanceof Uint8Array;
  const res = await fetch(`${sim.url}/v1.0${path}`, {
    method,
    body: body === undefined ? undefined : bytes ? body : JSON.stringify(body),
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined || bytes ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    dispatcher: agent,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json | undefined };
}

const newUser = (over: Json = {}): Json => ({
  accountEnabled: true,
  displayName: 'Ada Lovelace',
  mailNickname: 'ada',
  userPrincipalName: 'ada@contoso.com',
  passwordProfile: { password: 'Engine-1843!', forceChangePasswordNextSignIn: true },
  ...over,
});

beforeAll(async () => {
  pki = await createTestPki();
  sim = await GraphSimulator.start(pki, app);
  agent = new Agent({ connect: { ca: pki.caCert } });
  const res = await fetch(sim.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }).toString(),
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
  for (const id of [...sim.dir.users.keys()]) sim.dir.deleteUser(id);
  const state = userWriteState(sim);
  state.passwords.clear();
  state.photos.clear();
  state.deleted.clear();
  state.userAdministrator = true;
  sim.dir.addUser({ id: 'u1', displayName: 'Grace', userPrincipalName: 'grace@contoso.com', accountEnabled: true });
});

describe('POST /users', () => {
  it('creates the user (201 with it), keeps the password but never returns it', async () => {
    const res = await call('POST', '/users', newUser());
    expect(res.status).toBe(201);
    const id = res.body?.id as string;
    expect(res.body).toMatchObject({ id, displayName: 'Ada Lovelace', userPrincipalName: 'ada@contoso.com' });
    expect(res.body).not.toHaveProperty('passwordProfile');
    expect(userWriteState(sim).passwords.get(id)).toEqual({
      password: 'Engine-1843!',
      forceChangePasswordNextSignIn: true,
    });
    const read = await call('GET', `/users/${id}?$select=id,displayName,accountEnabled`);
    expect(read.body).toMatchObject({ id, displayName: 'Ada Lovelace', accountEnabled: true });
    expect(JSON.stringify(read.body)).not.toContain('Engine-1843!');
    expect((await call('GET', `/users/${id}?$select=passwordProfile`)).status).toBe(400);
  });

  it('refuses a missing required property, naming it', async () => {
    for (const missing of ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName', 'passwordProfile']) {
      const body = newUser();
      delete body[missing];
      const res = await call('POST', '/users', body);
      expect(res.status).toBe(400);
      expect(res.body?.error).toMatchObject({
        code: 'Request_BadRequest',
        message: `Invalid value specified for property '${missing}' of resource 'User'.`,
      });
    }
    expect(sim.dir.users.size).toBe(1);
  });

  it('refuses a taken UPN (any case), an unverified domain, a simple password, an unknown property', async () => {
    const taken = await call('POST', '/users', newUser({ userPrincipalName: 'GRACE@contoso.com' }));
    expect(taken).toMatchObject({ status: 400, body: { error: { code: 'Request_BadRequest', message: UPN_TAKEN } } });
    const domain = await call('POST', '/users', newUser({ userPrincipalName: 'ada@fabrikam.com' }));
    expect(domain.body?.error).toMatchObject({ code: 'Request_BadRequest', message: UNVERIFIED_DOMAIN });
    for (const password of ['Ab1!', 'alllowercase1', 'NoDigitsOrSymbols']) {
      const weak = await call('POST', '/users', newUser({ passwordProfile: { password } }));
      expect(weak.body?.error).toMatchObject({ code: 'Request_BadRequest', message: PASSWORD_COMPLEXITY });
    }
    // Three classes of four are enough.
    expect((await call('POST', '/users', newUser({ passwordProfile: { password: 'lower-and-1234' } }))).status).toBe(
      201,
    );
    const unknown = await call('POST', '/users', newUser({ userPrincipalName: 'x@contoso.com', photo: 'abc' }));
    expect(unknown.body?.error.message).toBe(
      "Property 'photo' does not exist as a declared property or extension property.",
    );
  });
});

describe('PATCH and DELETE /users/{id}', () => {
  it('PATCH answers 204 and changes what delta then reports', async () => {
    const before = sim.dir.version;
    const res = await call('PATCH', '/users/u1', { department: 'Navy', accountEnabled: false });
    expect(res).toEqual({ status: 204, body: undefined });
    expect(sim.dir.users.get('u1')).toMatchObject({ department: 'Navy', accountEnabled: false });
    expect(sim.dir.changes.filter((c) => c.v > before)).toEqual([
      expect.objectContaining({ id: 'u1', props: ['department', 'accountEnabled'] }),
    ]);
    expect((await call('PATCH', '/users/grace%40contoso.com', { city: 'Arlington' })).status).toBe(204);
    expect((await call('PATCH', '/users/nobody', { city: 'x' })).body?.error.code).toBe('Request_ResourceNotFound');
  });

  it('a password reset needs the User Administrator role and a complex password', async () => {
    const reset = { passwordProfile: { password: 'Compiler-1952!', forceChangePasswordNextSignIn: false } };
    expect((await call('PATCH', '/users/u1', reset)).status).toBe(204);
    expect(userWriteState(sim).passwords.get('u1')).toEqual({
      password: 'Compiler-1952!',
      forceChangePasswordNextSignIn: false,
    });
    const weak = await call('PATCH', '/users/u1', { passwordProfile: { password: 'short' } });
    expect(weak.body?.error.message).toBe(PASSWORD_COMPLEXITY);
    userWriteState(sim).userAdministrator = false;
    const denied = await call('PATCH', '/users/u1', reset);
    expect(denied).toMatchObject({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied', message: INSUFFICIENT } },
    });
    // Without the role, other properties still change.
    expect((await call('PATCH', '/users/u1', { jobTitle: 'Admiral' })).status).toBe(204);
  });

  it('DELETE answers 204 and soft-deletes the user', async () => {
    const version = sim.dir.version;
    expect((await call('DELETE', '/users/u1')).status).toBe(204);
    expect(sim.dir.users.has('u1')).toBe(false);
    expect(userWriteState(sim).deleted.get('u1')).toMatchObject({ id: 'u1', displayName: 'Grace' });
    expect(sim.dir.changes.find((c) => c.v > version)).toMatchObject({ id: 'u1', removed: 'deleted' });
    expect((await call('DELETE', '/users/u1')).status).toBe(404);
  });
});

describe('PUT /users/{id}/photo/$value', () => {
  it('keeps the image bytes, refuses more than 4 MB and a non-image type', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
    const put = await call('PUT', '/users/u1/photo/$value', jpeg, { 'Content-Type': 'image/jpeg' });
    expect(put.status).toBe(200);
    expect(userWriteState(sim).photos.get('u1')).toEqual({ type: 'image/jpeg', bytes: Buffer.from(jpeg) });
    const big = new Uint8Array(MAX_PHOTO_BYTES + 1);
    const tooBig = await call('PUT', '/users/u1/photo/$value', big, { 'Content-Type': 'image/jpeg' });
    expect(tooBig).toMatchObject({
      status: 400,
      body: { error: { message: 'The photo exceeds the maximum size of 4 MB.' } },
    });
    const atLimit = await call('PUT', '/users/u1/photo/$value', new Uint8Array(MAX_PHOTO_BYTES), {
      'Content-Type': 'image/png',
    });
    expect(atLimit.status).toBe(200);
    const text = await call('PUT', '/users/u1/photo/$value', jpeg, { 'Content-Type': 'text/plain' });
    expect(text.status).toBe(400);
    expect((await call('DELETE', '/users/u1/photo/$value')).status).toBe(204);
    expect(userWriteState(sim).photos.has('u1')).toBe(false);
    expect((await call('PUT', '/users/u9/photo/$value', jpeg, { 'Content-Type': 'image/jpeg' })).status).toBe(404);
  });
});
