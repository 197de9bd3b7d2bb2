/**
 * The group activities.
 *   addUserToGroups / removeUserFromGroups   input {groups?: id | ids, groupsAttribute?: a data attribute holding
 *     one or many group ids, ignoreExisting?: boolean}; the user is named by the identity mapping's unique
 *     attribute. Each group is read (`GET /Groups/{id}`), then its `members` PATCHed (`add` of the user,
 *     `remove` of `members[value eq "<id>"]`), or the group PUT back when the server does not PATCH. A user who
 *     already is (add) or is not (remove) a member fails that group unless ignoreExisting. Completed only if
 *     every group succeeded; otherwise an Exception naming each failed group and why.
 *   createGroup   POST /Groups from the access mapping → 201, response {id, displayName}
 *   deleteGroup   DELETE /Groups/{id}, the group named by the access mapping's unique attribute
 */
import { readMembershipInput } from '../../kit/activity/membership-input.js';
import { type ActionHandler, InvalidInvocationError } from '../../types.js';
import { scimString } from '../filter.js';
import { buildResource, requireMapping, writtenAttributes } from './mapping.js';
import { COLLECTION, resolveId } from './resolve.js';
import { ActivityFailure, type ActivityRun, activity, completed, record, text } from './run.js';
import { GROUP_SCHEMA, noInput } from './users.js';

const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Change = 'add' | 'remove';

/** One group's membership change; throws ActivityFailure (or what the request threw) when it failed. */
async function changeMembership(run: ActivityRun, group: string, user: string, change: Change, ignore: boolean) {
  const path = `${COLLECTION.access}/${encodeURIComponent(group)}`;
  const current = record((await run.request('GET', path)).body);
  const members = Array.isArray(current.members) ? current.members.map(record) : [];
  const member = members.some((m) => text(m.value) === user);
  if (member === (change === 'add')) {
    if (ignore) return;
    throw new ActivityFailure(change === 'add' ? `user ${user} already is a member` : `user ${user} is not a member`);
  }
  if ((await run.features()).patch) {
    const op =
      change === 'add'
        ? { op: 'add', path: 'members', value: [{ value: user }] }
        : { op: 'remove', path: `members[value eq ${scimString(user)}]` };
    await run.request('PATCH', path, { schemas: [PATCH_SCHEMA], Operations: [op] });
    return;
  }
  const next = change === 'add' ? [...members, { value: user }] : members.filter((m) => text(m.value) !== user);
  const { meta: _meta, ...rest } = current;
  await run.request('PUT', path, { ...rest, members: next });
}

function membership(name: string, change: Change): ActionHandler {
  return (ctx, input, data) => {
    const { groups, ignoreExisting } = readMembershipInput(name, input, data, { system: 'SCIM' });
    requireMapping(ctx.task, 'identity', name);
    return activity(ctx, async (run) => {
      const user = await resolveId(run, 'identity', data, name);
      const failures: string[] = [];
      for (const group of groups) {
        try {
          await changeMembership(run, group, user, change, ignoreExisting);
        } catch (e) {
          if (e instanceof InvalidInvocationError) throw e;
          failures.push(`group ${group}: ${run.failed(e).exception}`);
        }
      }
      const response = { user, groups: groups.filter((g) => !failures.some((f) => f.startsWith(`group ${g}:`))) };
      if (failures.length === 0) return completed(200, response);
      const done = groups.length - failures.length;
      return {
        state: 'Exception',
        statusCode: undefined,
        response,
        exception: `${name}: ${failures.length} of ${groups.length} group(s) failed (${done} done): ${failures.join('; ')}`,
      };
    });
  };
}

export const addUserToGroups = membership('addUserToGroups', 'add');
export const removeUserFromGroups = membership('removeUserFromGroups', 'remove');

export const createGroup: ActionHandler = (ctx, input, data) => {
  noInput('createGroup', input);
  const attributes = writtenAttributes(requireMapping(ctx.task, 'access', 'createGroup'), data);
  if (!attributes.some((a) => a.external === 'displayName')) {
    throw new InvalidInvocationError('createGroup: data must hold the attribute mapped to the SCIM displayName');
  }
  return activity(ctx, async (run) => {
    const { status, body } = await run.request('POST', '/Groups', buildResource(GROUP_SCHEMA, attributes));
    const created = record(body);
    return completed(status, { id: text(created.id), displayName: text(created.displayName) });
  });
};

export const deleteGroup: ActionHandler = (ctx, input, data) => {
  noInput('deleteGroup', input);
  requireMapping(ctx.task, 'access', 'deleteGroup');
  return activity(ctx, async (run) => {
    const id = await resolveId(run, 'access', data, 'deleteGroup');
    const { status } = await run.request('DELETE', `${COLLECTION.access}/${encodeURIComponent(id)}`);
    return completed(status, { id });
  });
};
