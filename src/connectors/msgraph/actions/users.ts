/**
 * The user activities of Graph event tasks. `data` holds the card's attributes by their local names; the task's
 * identity mapping turns them into Graph properties (mapping.ts) and its unique attribute names the user
 * (resolve.ts: the object id, or a $filter lookup).
 *   createUser      POST /users (displayName, mailNickname, userPrincipalName mapped; accountEnabled true unless
 *                   mapped; passwordProfile from spec.event.password)   → 201 {id, userPrincipalName, password?}
 *   updateUser      PATCH /users/{id} with the mapped properties in data; a photo PUT to /photo/$value (null:
 *                   DELETE) → 204. createUser sends no photo: its user exists only once the POST answered
 *   deleteUser      DELETE /users/{id} (Graph keeps it 30 days in deletedItems)                      → 204
 *   activateUser / deactivateUser   PATCH accountEnabled true / false                               → 204
 *   resetPassword   PATCH passwordProfile from spec.event.password                                  → 204 {id, password?}
 *   readUser        GET /users/{id}?$select=<mapped>; the card's attributes; `load` loads them       → 200
 * A password is given back only when generated (createUser, resetPassword), in that first answer; it is registered
 * with the run's scrubber, so no log line, Exception or stored replay carries it.
 */
import { eventPassword, passwordIsGenerated } from '../../kit/activity/password.js';
import type { ActionContext, ActionHandler, ActionResult, InvokeData } from '../../types.js';
import { InvalidInvocationError } from '../../types.js';
import {
  createBody,
  type GraphBody,
  graphBody,
  localAttributes,
  onlyInput,
  requireMapping,
  selectedProperties,
  uniqueKey,
  writtenProperties,
} from './mapping.js';
import { photoOf, writePhoto } from './photo.js';
import { COLLECTION, objectPath, resolveId } from './resolve.js';
import { ActivityFailure, activity, completed, type GraphActivityRun, record, text, WRITE_PERMISSIONS } from './run.js';

const FORCE = 'forceChangePasswordNextSignIn';

export const RESET_ROLE_HINT =
  'resetting a password app-only needs User.ReadWrite.All and the User Administrator role ' +
  '(Privileged Authentication Administrator for an admin account)';

export const PASSWORD_OMITTED = 'the generated password is given only in the first answer of this call';

/** input.forceChangePasswordNextSignIn: a boolean, true when absent; no other input is taken. */
function forceChange(name: string, input: Record<string, unknown>): boolean {
  onlyInput(name, input, [FORCE]);
  const value = input[FORCE];
  if (value === undefined) return true;
  if (typeof value !== 'boolean') {
    throw new InvalidInvocationError(`input.${FORCE} must be true or false (${name}; default true)`);
  }
  return value;
}

/** The id and Graph path of the user `data` names. */
async function findUser(run: GraphActivityRun, data: InvokeData, name: string) {
  const id = await resolveId(run, 'identity', data, name, COLLECTION.identity);
  return { id, path: objectPath(COLLECTION.identity, id) };
}

/** What every activity on an existing user needs before any request: the identity mapping and its unique value. */
function existingUser(name: string, ctx: ActionContext, data: InvokeData) {
  const mapping = requireMapping(ctx.task, 'identity', name);
  return { mapping, key: uniqueKey(mapping, 'identity', data) };
}

/**
 * A generated password goes into the first answer only, after the run scrubbed it from everything else. It is
 * also given when the outcome is unknown (no answer, a timeout, a 5xx: Graph may have acted), so that an account
 * that may now exist never has a password nobody was told; a 4xx refusal changed nothing and gives none.
 */
function withGenerated(result: ActionResult, password: string | undefined): ActionResult {
  if (password === undefined) return result;
  const unknown = result.state === 'Exception' && (result.statusCode === undefined || result.statusCode >= 500);
  if (result.state !== 'Completed' && !unknown) return result;
  const response = record(result.response);
  const note = unknown ? { outcome: 'unknown: Graph may have applied this password; use it, or reset it' } : {};
  return {
    ...result,
    response: { ...response, ...note, password },
    replayResponse: { ...response, ...note, passwordOmitted: PASSWORD_OMITTED },
  };
}

export const createUser: ActionHandler = async (ctx, input, data) => {
  const force = forceChange('createUser', input);
  const body: GraphBody = createBody(
    requireMapping(ctx.task, 'identity', 'createUser'),
    'identity',
    'createUser',
    data,
  );
  if (!('accountEnabled' in body)) body.accountEnabled = true;
  let generated: string | undefined;
  const result = await activity(ctx, async (run) => {
    const password = (await eventPassword(ctx, 'createUser', true)) as string;
    run.addSecret(password);
    if (passwordIsGenerated(ctx)) generated = password;
    const passwordProfile = { password, [FORCE]: force };
    const answer = await run.request('POST', COLLECTION.identity, { ...body, passwordProfile });
    const user = record(answer.body);
    return completed(answer.status, { id: text(user.id), userPrincipalName: text(user.userPrincipalName) });
  });
  return withGenerated(result, generated);
};

export const updateUser: ActionHandler = async (ctx, input, data) => {
  onlyInput('updateUser', input, []);
  const { mapping, key } = existingUser('updateUser', ctx, data);
  // The unique attribute names the user; sending it back unchanged would only be a rename to itself.
  const changes = writtenProperties(mapping, data).filter((p) => p.local !== key.local);
  const photo = photoOf(mapping, data);
  if (changes.length === 0 && photo === undefined) {
    throw new InvalidInvocationError(
      `updateUser: data holds none of the attributes spec.mappings.identity maps besides data.${key.local}`,
    );
  }
  return activity(ctx, async (run) => {
    const { id, path } = await findUser(run, data, 'updateUser');
    if (changes.length > 0) await run.request('PATCH', path, graphBody(changes));
    // The photo after the properties: a failed photo leaves a change a retry of the call repeats harmlessly.
    if (photo) await writePhoto(run, path, photo);
    // 204 whichever requests it took (Graph answers a photo with 200): the user changed, nothing to hand back.
    return completed(204, { id });
  });
};

const patchUser = (name: string, body: GraphBody): ActionHandler => {
  return async (ctx, input, data) => {
    onlyInput(name, input, []);
    existingUser(name, ctx, data);
    return activity(ctx, async (run) => {
      const { id, path } = await findUser(run, data, name);
      const { status } = await run.request('PATCH', path, body);
      return completed(status, { id });
    });
  };
};

export const activateUser = patchUser('activateUser', { accountEnabled: true });
export const deactivateUser = patchUser('deactivateUser', { accountEnabled: false });

export const deleteUser: ActionHandler = async (ctx, input, data) => {
  onlyInput('deleteUser', input, []);
  existingUser('deleteUser', ctx, data);
  return activity(ctx, async (run) => {
    const { id, path } = await findUser(run, data, 'deleteUser');
    const { status } = await run.request('DELETE', path);
    return completed(status, { id });
  });
};

/** A 403 of a password reset: the app lacks the directory role, which the permission alone does not give. */
function explainReset(e: unknown): never {
  if (e instanceof ActivityFailure && e.statusCode === 403) {
    const said = e.message.replace(`; ${WRITE_PERMISSIONS}`, '');
    throw new ActivityFailure(`${said}; ${RESET_ROLE_HINT}`, e.statusCode, e.response);
  }
  throw e;
}

export const resetPassword: ActionHandler = async (ctx, input, data) => {
  const force = forceChange('resetPassword', input);
  existingUser('resetPassword', ctx, data);
  let generated: string | undefined;
  const result = await activity(ctx, async (run) => {
    const password = (await eventPassword(ctx, 'resetPassword', true)) as string;
    run.addSecret(password);
    if (passwordIsGenerated(ctx)) generated = password;
    const { id, path } = await findUser(run, data, 'resetPassword');
    const body = { passwordProfile: { password, [FORCE]: force } };
    const { status } = await run.request('PATCH', path, body).catch(explainReset);
    return completed(status, { id });
  });
  // A generated password nobody is told would lock the user out: the first answer gives it, as createUser's does.
  return withGenerated(result, generated);
};

export const readUser: ActionHandler = async (ctx, input, data) => {
  onlyInput('readUser', input, ['load']);
  if (input.load !== undefined && typeof input.load !== 'boolean') {
    throw new InvalidInvocationError('input.load must be true or false (readUser; default false)');
  }
  const load = input.load === true;
  const { mapping } = existingUser('readUser', ctx, data);
  const select = selectedProperties(mapping).join(',');
  return activity(ctx, async (run) => {
    const { path } = await findUser(run, data, 'readUser');
    const { status, body } = await run.request('GET', `${path}?$select=${encodeURIComponent(select)}`);
    const user = record(body);
    delete user['@odata.context'];
    const result = completed(status, localAttributes(mapping, user));
    return load ? { ...result, load: [{ kind: 'identity', op: 'upsert', data: user }] } : result;
  });
};
