/**
 * The user activities. `data` holds the card's attributes by their local names; the task's identity mapping
 * turns them into SCIM attributes (mapping.ts) and its unique attribute names the user (resolve.ts).
 *   createUser       POST /Users                                 → 201, response {id, userName}
 *   updateUser       PATCH /Users/{id} (replace/remove per mapped attribute) when the server supports PATCH,
 *                    else GET then PUT of the whole resource     → 200/204
 *   activateUser     `active: true`, deactivateUser `active: false`, the same way
 *   deleteUser       DELETE /Users/{id}                          → 204
 */
import { type ActionHandler, InvalidInvocationError, type InvokeData } from '../../types.js';
import {
  buildResource,
  requireMapping,
  type ScimObject,
  setPath,
  type WrittenAttribute,
  writtenAttributes,
} from './mapping.js';
import { COLLECTION, resolveId } from './resolve.js';
import { type ActivityRun, activity, completed, record, text } from './run.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export const noInput = (activityName: string, input: Record<string, unknown>): void => {
  const unknown = Object.keys(input);
  if (unknown.length > 0) {
    throw new InvalidInvocationError(
      `unknown input field(s) ${unknown.map((k) => `"${k}"`).join(', ')}: ${activityName} reads only data`,
    );
  }
};

export const createUser: ActionHandler = (ctx, input, data) => {
  noInput('createUser', input);
  const mapping = requireMapping(ctx.task, 'identity', 'createUser');
  const attributes = writtenAttributes(mapping, data);
  if (!attributes.some((a) => a.external === 'userName')) {
    const local = mapping.attributes?.find((a) => a.external === 'userName')?.local;
    throw new InvalidInvocationError(
      local
        ? `data.${local} is required: createUser sends it as the SCIM userName`
        : 'createUser needs a mapping of the SCIM userName in spec.mappings.identity',
    );
  }
  return activity(ctx, async (run) => {
    const { status, body } = await run.request('POST', '/Users', buildResource(USER_SCHEMA, attributes));
    const created = record(body);
    return completed(status, { id: text(created.id), userName: text(created.userName) });
  });
};

/** The SCIM PATCH operations that set (or, for null, remove) each attribute. */
function operations(attributes: WrittenAttribute[]): ScimObject[] {
  return attributes.map((a) => {
    const path = patchPath(a);
    return a.value === null ? { op: 'remove', path } : { op: 'replace', path, value: a.value };
  });
}

/** `name.givenName`; `emails[0].value` cannot be a PATCH path, so the whole `emails` list is replaced. */
function patchPath(a: WrittenAttribute): string {
  const [first, ...rest] = a.segments;
  const plain = rest.every((s) => typeof s === 'string');
  if (String(first).startsWith('urn:')) return rest.length ? `${first}:${rest.join('.')}` : String(first);
  return plain ? [first, ...rest].join('.') : String(first);
}

/** Replaces what an attribute whose path goes through a list index becomes in a PATCH: the whole list. */
function patchable(attributes: WrittenAttribute[]): WrittenAttribute[] {
  const out: WrittenAttribute[] = [];
  const lists = new Map<string, ScimObject>();
  for (const a of attributes) {
    if (!a.segments.some((s) => typeof s === 'number')) {
      out.push(a);
      continue;
    }
    const holder = lists.get(String(a.segments[0])) ?? {};
    lists.set(String(a.segments[0]), holder);
    if (a.value !== null) setPath(holder, a.segments, a.value);
  }
  for (const [name, holder] of lists) {
    out.push({ local: name, external: name, segments: [name], value: holder[name] ?? null });
  }
  return out;
}

/** Changes the user: PATCH when the server supports it, else the resource read, changed and PUT back. */
async function changeUser(run: ActivityRun, id: string, attributes: WrittenAttribute[]) {
  const path = `${COLLECTION.identity}/${encodeURIComponent(id)}`;
  if ((await run.features()).patch) {
    const body = { schemas: [PATCH_SCHEMA], Operations: operations(patchable(attributes)) };
    const { status } = await run.request('PATCH', path, body);
    return completed(status, { id });
  }
  const current = record((await run.request('GET', path)).body);
  const changed: ScimObject = { ...current };
  delete changed.meta;
  for (const a of attributes) setPath(changed, a.segments, a.value);
  const { status } = await run.request('PUT', path, changed);
  return completed(status, { id });
}

function updateWith(name: string, change: (data: InvokeData) => WrittenAttribute[]): ActionHandler {
  return (ctx, input, data) => {
    noInput(name, input);
    requireMapping(ctx.task, 'identity', name);
    const attributes = change(data);
    return activity(ctx, async (run) => changeUser(run, await resolveId(run, 'identity', data, name), attributes));
  };
}

export const updateUser: ActionHandler = (ctx, input, data) => {
  const mapping = requireMapping(ctx.task, 'identity', 'updateUser');
  const changes = writtenAttributes(mapping, data);
  if (changes.length === 0) {
    throw new InvalidInvocationError('updateUser: data holds none of the attributes spec.mappings.identity maps');
  }
  return updateWith('updateUser', () => changes)(ctx, input, data);
};

const activeFlag = (value: boolean): WrittenAttribute[] => [
  { local: 'active', external: 'active', segments: ['active'], value },
];

export const activateUser: ActionHandler = updateWith('activateUser', () => activeFlag(true));
export const deactivateUser: ActionHandler = updateWith('deactivateUser', () => activeFlag(false));

export const deleteUser: ActionHandler = (ctx, input, data) => {
  noInput('deleteUser', input);
  requireMapping(ctx.task, 'identity', 'deleteUser');
  return activity(ctx, async (run) => {
    const id = await resolveId(run, 'identity', data, 'deleteUser');
    const { status } = await run.request('DELETE', `${COLLECTION.identity}/${encodeURIComponent(id)}`);
    return completed(status, { id });
  });
};
