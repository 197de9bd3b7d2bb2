/**
 * The group activities of Graph event tasks.
 *   addUserToGroups / removeUserFromGroups   input {groups?: id | ids, groupsAttribute?: a data attribute holding
 *     one or many ids, ignoreExisting?: boolean} (kit/activity/membership-input.ts); every group id must be a GUID
 *     (400 naming it). The user is the identity mapping's unique attribute (resolve.ts); a userPrincipalName is
 *     turned into the object id first, as member references need it. Per group, in order:
 *     `POST /groups/{g}/members/$ref {"@odata.id": "<graph>/v1.0/directoryObjects/{user}"}` or
 *     `DELETE /groups/{g}/members/{user}/$ref`. Graph's 400 "…already exist…" (add) and its 404 naming the user
 *     (remove) mean the membership already is as asked: that group fails, unless ignoreExisting, where it is
 *     counted as unchanged. Completed only if every group succeeded; otherwise an Exception naming each failed
 *     group and why, and the groups that were done.
 *     Throttling: the kit's retry policy never resends a POST (kit/activity/run.ts), so a 429 on one membership
 *     POST fails that group with Graph's answer and the others go on; the Exception lists the done groups, and
 *     invoking again with ignoreExisting: true finishes the rest without failing on them. DELETEs wait out a
 *     429/503 within spec.event.timeout.
 *   verifyGroupMembership   input {group?: id | ids, groupsAttribute?}; pages GET /groups/{g}/members?$select=id
 *     (direct members) → response {member: true|false} (and per group when several were asked).
 *   createGroup   POST /groups from the access mapping (displayName, mailEnabled, mailNickname, securityEnabled
 *     needed) → 201, response {id, displayName}
 *   updateGroup   PATCH /groups/{id} with the mapped properties `data` holds → 204
 *   deleteGroup   DELETE /groups/{id} → 204
 */
import { readGroupRefs } from '../../kit/activity/membership-input.js';
import { type ActionHandler, InvalidInvocationError, type InvokeData } from '../../types.js';
import { createBody, graphBody, onlyInput, requireMapping, writtenProperties } from './mapping.js';
import { COLLECTION, GUID, objectPath, resolveId } from './resolve.js';
import { ActivityFailure, activity, completed, type GraphActivityRun, record, text } from './run.js';

const notGuid = (where: string, id: string): InvalidInvocationError =>
  new InvalidInvocationError(
    `${where} holds "${id}", which is not a Graph group id (an object id GUID such as 0b9c1d2e-5a1f-4c3b-9d8e-7f6a5b4c3d2e)`,
  );

/** The input's group ids, each a GUID (400 naming the field and the value otherwise). */
function groupIds(name: string, input: Record<string, unknown>, data: InvokeData, verify = false) {
  const { refs, ignoreExisting } = readGroupRefs(name, input, data, {
    system: 'Graph',
    groupsField: verify ? 'group' : 'groups',
    ignoreExisting: !verify,
  });
  const bad = refs.find((r) => !GUID.test(r.id));
  if (bad) throw notGuid(bad.from, bad.id);
  return { groups: refs.map((r) => r.id), ignoreExisting };
}

/** The user's object id: member references name directory objects by id, never by userPrincipalName. */
async function userObjectId(run: GraphActivityRun, data: InvokeData, name: string): Promise<string> {
  const id = await resolveId(run, 'identity', data, name, COLLECTION.identity);
  if (GUID.test(id)) return id;
  const { body } = await run.request('GET', `${objectPath(COLLECTION.identity, id)}?$select=id`);
  const found = text(record(body).id);
  if (!found) throw new ActivityFailure(`GET /v1.0/users/${id} answered without the user's id`);
  return found;
}

/** The group named by the access mapping's unique attribute, which must be an object id GUID when it maps id. */
async function groupObjectId(run: GraphActivityRun, data: InvokeData, name: string): Promise<string> {
  const id = await resolveId(run, 'access', data, name, COLLECTION.access);
  if (!GUID.test(id)) {
    const local = run.ctx.task.spec.mappings?.access?.attributes?.find((a) => a.unique)?.local ?? 'unique attribute';
    throw notGuid(`data.${local}`, id);
  }
  return id;
}

type Change = 'add' | 'remove';

const sentence = (t: string): string => (t.endsWith('.') ? t : `${t}.`);
type Outcome = 'done' | 'unchanged';

/** Graph's error message of a failure (`Resource '…' does not exist …`), '' without one. */
const graphMessage = (e: ActivityFailure): string => text(record(record(e.response).error).message) ?? '';

/** Whether Graph's refusal says the membership already is as asked (a duplicate add, a non-member remove). */
function alreadySo(e: ActivityFailure, change: Change, group: string): boolean {
  if (change === 'add') return e.statusCode === 400 && /already exist/i.test(graphMessage(e));
  // Graph's 404 names what it did not find: the group (then the group is missing) or the member.
  return e.statusCode === 404 && !graphMessage(e).includes(`'${group}'`);
}

async function changeMembership(
  run: GraphActivityRun,
  group: string,
  user: string,
  change: Change,
  ignore: boolean,
): Promise<Outcome> {
  const members = `${objectPath(COLLECTION.access, group)}/members`;
  try {
    if (change === 'add') {
      const ref = `${(await run.host()).origin}/v1.0/directoryObjects/${encodeURIComponent(user)}`;
      await run.request('POST', `${members}/$ref`, { '@odata.id': ref });
    } else {
      await run.request('DELETE', `${members}/${encodeURIComponent(user)}/$ref`);
    }
    return 'done';
  } catch (e) {
    if (!(e instanceof ActivityFailure) || !alreadySo(e, change, group)) throw e;
    if (ignore) return 'unchanged';
    const why = change === 'add' ? 'already is a member' : 'is not a member';
    throw new ActivityFailure(`user ${user} ${why} (${e.message}); set input.ignoreExisting to accept that`);
  }
}

function membership(name: string, change: Change): ActionHandler {
  return (ctx, input, data) => {
    const { groups, ignoreExisting } = groupIds(name, input, data);
    requireMapping(ctx.task, 'identity', name);
    return activity(ctx, async (run) => {
      const user = await userObjectId(run, data, name);
      const done: string[] = [];
      const unchanged: string[] = [];
      const failures: string[] = [];
      for (const group of groups) {
        try {
          const outcome = await changeMembership(run, group, user, change, ignoreExisting);
          (outcome === 'done' ? done : unchanged).push(group);
          ctx.log.info({ user, group, change, outcome }, `Graph membership ${change === 'add' ? 'added' : 'removed'}`);
        } catch (e) {
          failures.push(`Group ${group}: ${run.failed(e).exception}`);
        }
      }
      const succeeded = groups.filter((g) => done.includes(g) || unchanged.includes(g));
      const response = { user, groups: succeeded, ...(unchanged.length ? { unchanged } : {}) };
      if (failures.length === 0) return completed(200, response);
      const ok = response.groups;
      const retry =
        change === 'add' ? '; invoking again with input.ignoreExisting true leaves the done ones as they are' : '';
      return {
        state: 'Exception',
        response,
        exception:
          `${name}: ${failures.length} of ${groups.length} group(s) failed. ${failures.map(sentence).join(' ')} ` +
          `Done: ${ok.length ? ok.join(', ') : 'none'}${retry}.`,
      };
    });
  };
}

export const addUserToGroups = membership('addUserToGroups', 'add');
export const removeUserFromGroups = membership('removeUserFromGroups', 'remove');

/** Whether `user` is a direct member of `group`: its members paged by id ($top=999, each nextLink followed). */
async function isMember(run: GraphActivityRun, group: string, user: string): Promise<boolean> {
  const origin = (await run.host()).origin;
  let path: string | undefined = `${objectPath(COLLECTION.access, group)}/members?$select=id&$top=999`;
  while (path) {
    const body = record((await run.request('GET', path)).body);
    const page = Array.isArray(body.value) ? body.value : [];
    if (page.some((m) => text(record(m).id) === user)) return true;
    const next = text(body['@odata.nextLink']);
    if (!next) return false;
    const url = new URL(next);
    if (url.origin !== origin) throw new ActivityFailure(`Graph's next page link leads off ${origin}: ${url.origin}`);
    path = url.pathname + url.search;
  }
  return false;
}

export const verifyGroupMembership: ActionHandler = (ctx, input, data) => {
  const { groups } = groupIds('verifyGroupMembership', input, data, true);
  requireMapping(ctx.task, 'identity', 'verifyGroupMembership');
  return activity(ctx, async (run) => {
    const user = await userObjectId(run, data, 'verifyGroupMembership');
    const each: Record<string, boolean> = {};
    for (const group of groups) each[group] = await isMember(run, group, user);
    const member = groups.every((g) => each[g]);
    return completed(200, groups.length === 1 ? { member } : { member, groups: each });
  });
};

export const createGroup: ActionHandler = (ctx, input, data) => {
  onlyInput('createGroup', input, []);
  const body = createBody(requireMapping(ctx.task, 'access', 'createGroup'), 'access', 'createGroup', data);
  return activity(ctx, async (run) => {
    const { status, body: created } = await run.request('POST', COLLECTION.access, body);
    return completed(status, { id: text(record(created).id), displayName: text(record(created).displayName) });
  });
};

export const updateGroup: ActionHandler = (ctx, input, data) => {
  onlyInput('updateGroup', input, []);
  const properties = writtenProperties(requireMapping(ctx.task, 'access', 'updateGroup'), data);
  if (properties.length === 0) {
    throw new InvalidInvocationError('updateGroup: data holds none of the properties spec.mappings.access writes');
  }
  return activity(ctx, async (run) => {
    const id = await groupObjectId(run, data, 'updateGroup');
    const { status } = await run.request('PATCH', objectPath(COLLECTION.access, id), graphBody(properties));
    return completed(status, { id });
  });
};

export const deleteGroup: ActionHandler = (ctx, input, data) => {
  onlyInput('deleteGroup', input, []);
  requireMapping(ctx.task, 'access', 'deleteGroup');
  return activity(ctx, async (run) => {
    const id = await groupObjectId(run, data, 'deleteGroup');
    const { status } = await run.request('DELETE', objectPath(COLLECTION.access, id));
    return completed(status, { id });
  });
};
