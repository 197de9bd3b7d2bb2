/**
 * User writes of the simulator (see writes.ts), as msgraph-api.md "Writes" describes them:
 *   POST   /users                     201 with the user; needs accountEnabled, displayName, mailNickname,
 *                                     userPrincipalName (its domain verified, the value unique) and a
 *                                     passwordProfile whose password meets Entra's complexity rules
 *   PATCH  /users/{id | upn}          204; a passwordProfile needs the app's User Administrator role (else 403)
 *   DELETE /users/{id | upn}          204; the user moves to deletedItems (a soft delete)
 *   PUT|PATCH /users/{id}/photo/$value   the raw image bytes (image/*), at most 4 MB → 200; DELETE → 204
 * Passwords are kept here and never returned by a GET; photos are kept by user id (delta does not track them).
 * This state lives beside the simulator (userWriteState), so the GET side of server.ts needs no change.
 */
import { randomUUID } from 'node:crypto';
import { type Answer, graphError } from './answers.js';
import { type Obj, USER_PROPERTIES } from './directory.js';
import type { GraphSimulator } from './server.js';
import { jsonBody, type WriteHandler, type WriteRequest } from './writes.js';

export const MAX_PHOTO_BYTES = 4 * 1024 * 1024;

export const UPN_TAKEN = 'Another object with the same value for property userPrincipalName already exists.';
export const PASSWORD_COMPLEXITY =
  'The specified password does not comply with password complexity requirements. Please provide a different password.';
export const UNVERIFIED_DOMAIN =
  'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.';
export const INSUFFICIENT = 'Insufficient privileges to complete the operation.';

export interface UserWriteState {
  /** The password of each user, by id, with its change-at-next-sign-in flag. */
  passwords: Map<string, { password: string; forceChangePasswordNextSignIn: boolean }>;
  photos: Map<string, { type: string; bytes: Buffer }>;
  /** /directory/deletedItems: soft-deleted users by id. */
  deleted: Map<string, Obj>;
  /** Domains a userPrincipalName may use. */
  verifiedDomains: Set<string>;
  /** Whether the app holds the User Administrator role, which an app-only password reset needs. */
  userAdministrator: boolean;
}

const states = new WeakMap<GraphSimulator, UserWriteState>();

/** The user-write state of a simulator (created on first use). */
export function userWriteState(sim: GraphSimulator): UserWriteState {
  let s = states.get(sim);
  if (!s) {
    s = {
      passwords: new Map(),
      photos: new Map(),
      deleted: new Map(),
      verifiedDomains: new Set(['contoso.com', 'contoso.onmicrosoft.com']),
      userAdministrator: true,
    };
    states.set(sim, s);
  }
  return s;
}

const REQUIRED = ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName', 'passwordProfile'];
const WRITABLE = new Set([...USER_PROPERTIES, 'passwordProfile', 'passwordPolicies', 'usageLocation']);
const READ_ONLY = new Set(['id', 'createdDateTime']);

const badRequest = (message: string): Answer => graphError(400, 'Request_BadRequest', message);

/** Entra's rule: 8 to 256 characters, with at least three of lower case, upper case, digits and symbols. */
export function complexEnough(password: string): boolean {
  if (password.length < 8 || password.length > 256) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
  return classes >= 3;
}

function findUser(sim: GraphSimulator, ref: string): Obj | undefined {
  const id = decodeURIComponent(ref);
  const lower = id.toLowerCase();
  return (
    sim.dir.users.get(id) ??
    [...sim.dir.users.values()].find((u) => String(u.userPrincipalName ?? '').toLowerCase() === lower)
  );
}

const notFound = (ref: string): Answer =>
  graphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${decodeURIComponent(ref)}' does not exist or one of its queried reference-property objects are not present.`,
  );

/** Refusals of properties a write may not carry, of a taken or unverified userPrincipalName; undefined when fine. */
function checkProperties(sim: GraphSimulator, body: Obj, self?: string): Answer | undefined {
  const unknown = Object.keys(body).find((k) => !WRITABLE.has(k) || READ_ONLY.has(k));
  if (unknown) {
    return badRequest(`Property '${unknown}' does not exist as a declared property or extension property.`);
  }
  if (body.userPrincipalName === undefined) return undefined;
  const upn = String(body.userPrincipalName);
  const at = upn.lastIndexOf('@');
  if (at <= 0 || !userWriteState(sim).verifiedDomains.has(upn.slice(at + 1).toLowerCase())) {
    return badRequest(UNVERIFIED_DOMAIN);
  }
  const taken = [...sim.dir.users.values()].some(
    (u) => u.id !== self && String(u.userPrincipalName ?? '').toLowerCase() === upn.toLowerCase(),
  );
  return taken ? badRequest(UPN_TAKEN) : undefined;
}

/** The password of a passwordProfile, or the refusal of a missing or too simple one. */
function checkPassword(profile: unknown): { password: string; force: boolean } | Answer {
  const p = (typeof profile === 'object' && profile !== null ? profile : {}) as Obj;
  if (typeof p.password !== 'string' || p.password === '') {
    return badRequest("Invalid value specified for property 'passwordProfile' of resource 'User'.");
  }
  if (!complexEnough(p.password)) return badRequest(PASSWORD_COMPLEXITY);
  return { password: p.password, force: p.forceChangePasswordNextSignIn !== false };
}

function createUser(sim: GraphSimulator, req: WriteRequest): Answer {
  const body = jsonBody(req);
  if ('status' in body && typeof body.status === 'number') return body as Answer;
  const user = body as Obj;
  const missing = REQUIRED.find((k) => user[k] === undefined || user[k] === null || user[k] === '');
  if (missing) return badRequest(`Invalid value specified for property '${missing}' of resource 'User'.`);
  const refused = checkProperties(sim, user);
  if (refused) return refused;
  const password = checkPassword(user.passwordProfile);
  if ('status' in password) return password;
  const { passwordProfile: _, ...props } = user;
  const id = randomUUID();
  sim.dir.addUser({ ...props, id, createdDateTime: new Date().toISOString() });
  userWriteState(sim).passwords.set(id, {
    password: password.password,
    forceChangePasswordNextSignIn: password.force,
  });
  const created = sim.dir.users.get(id) as Obj;
  return {
    status: 201,
    headers: { Location: `${sim.url}/v1.0/users/${id}` },
    body: { '@odata.context': `${sim.url}/v1.0/$metadata#users/$entity`, ...created },
  };
}

function patchUser(sim: GraphSimulator, req: WriteRequest, user: Obj): Answer {
  const body = jsonBody(req);
  if ('status' in body && typeof body.status === 'number') return body as Answer;
  const { passwordProfile, ...props } = body as Obj;
  const id = String(user.id);
  const refused = checkProperties(sim, props, id);
  if (refused) return refused;
  const state = userWriteState(sim);
  if (passwordProfile !== undefined) {
    if (!state.userAdministrator) return graphError(403, 'Authorization_RequestDenied', INSUFFICIENT);
    const password = checkPassword(passwordProfile);
    if ('status' in password) return password;
    state.passwords.set(id, { password: password.password, forceChangePasswordNextSignIn: password.force });
  }
  if (Object.keys(props).length > 0) sim.dir.updateUser(id, props);
  return { status: 204 };
}

function deleteUser(sim: GraphSimulator, user: Obj): Answer {
  const id = String(user.id);
  userWriteState(sim).deleted.set(id, { ...user, deletedDateTime: new Date().toISOString() });
  userWriteState(sim).photos.delete(id);
  sim.dir.deleteUser(id, 'deleted');
  return { status: 204 };
}

function header(req: WriteRequest, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function writePhoto(sim: GraphSimulator, req: WriteRequest, user: Obj): Answer {
  const photos = userWriteState(sim).photos;
  const id = String(user.id);
  if (req.method === 'DELETE') {
    if (!photos.delete(id)) return graphError(404, 'ImageNotFound', 'The photo wasn’t found.');
    return { status: 204 };
  }
  const type = header(req, 'content-type').split(';')[0].trim().toLowerCase();
  if (!type.startsWith('image/')) {
    return graphError(400, 'BadRequest', `The content type '${type}' is not an image type.`);
  }
  if (req.raw.length === 0) return graphError(400, 'BadRequest', 'The photo is empty.');
  if (req.raw.length > MAX_PHOTO_BYTES) {
    return graphError(400, 'BadRequest', 'The photo exceeds the maximum size of 4 MB.');
  }
  photos.set(id, { type, bytes: Buffer.from(req.raw) });
  return { status: 200 };
}

export const userWrites: WriteHandler = (req, sim) => {
  if (req.path === '/users') return req.method === 'POST' ? createUser(sim, req) : undefined;
  const m = /^\/users\/([^/]+)(\/photo\/\$value)?$/.exec(req.path);
  if (!m) return undefined;
  const user = findUser(sim, m[1]);
  if (m[2]) {
    if (!['PUT', 'PATCH', 'DELETE'].includes(req.method)) return undefined;
    return user ? writePhoto(sim, req, user) : notFound(m[1]);
  }
  if (req.method !== 'PATCH' && req.method !== 'DELETE') return undefined;
  if (!user) return notFound(m[1]);
  return req.method === 'PATCH' ? patchUser(sim, req, user) : deleteUser(sim, user);
};
