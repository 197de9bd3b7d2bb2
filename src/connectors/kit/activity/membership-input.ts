/**
 * The input of the membership activities every directory type has (addUserToGroups, removeUserFromGroups,
 * verifyGroupMembership): the groups come as `groups` (one id or a list) and/or as `groupsAttribute`, the name
 * of a `data` attribute holding one id or a list (the seeds' "Role attribute"); `ignoreExisting` makes an
 * existing membership (add) or a missing one (remove) count as done. Ids are kept in order, each once.
 */
import { InvalidInvocationError, type InvokeData } from '../../types.js';

export interface MembershipInput {
  groups: string[];
  ignoreExisting: boolean;
}

export interface MembershipFields {
  /** The field naming groups directly: `groups` (the default) or `group` (verifyGroupMembership). */
  groupsField?: 'groups' | 'group';
  /** Whether `ignoreExisting` is taken (not for a verification). */
  ignoreExisting?: boolean;
  /** The upstream's name, for the messages: `SCIM`, `Graph`. */
  system: string;
}

const ids = (v: unknown): string[] | undefined => {
  const list = Array.isArray(v) ? v : [v];
  const out = list.filter((x) => typeof x === 'string' || typeof x === 'number').map(String);
  return out.length === list.length && out.every((x) => x.trim() !== '') ? out : undefined;
};

/** Where a group id came from, for messages about it: `input.groups` or `data.roles (input.groupsAttribute)`. */
export interface GroupRef {
  id: string;
  from: string;
}

/** The groups of the input with where each came from; 400 naming the field for anything malformed. */
export function readGroupRefs(
  name: string,
  input: Record<string, unknown>,
  data: InvokeData,
  fields: MembershipFields,
): { refs: GroupRef[]; ignoreExisting: boolean } {
  const groupsField = fields.groupsField ?? 'groups';
  const known = [groupsField, 'groupsAttribute', ...(fields.ignoreExisting === false ? [] : ['ignoreExisting'])];
  const unknown = Object.keys(input).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new InvalidInvocationError(
      `unknown input field(s) ${unknown.map((k) => `"${k}"`).join(', ')}: ${name} takes ${known.join(', ')}`,
    );
  }
  if (input.ignoreExisting !== undefined && typeof input.ignoreExisting !== 'boolean') {
    throw new InvalidInvocationError('input.ignoreExisting must be true or false');
  }
  const refs: GroupRef[] = [];
  if (input[groupsField] !== undefined) {
    const given = ids(input[groupsField]);
    if (!given) throw new InvalidInvocationError(`input.${groupsField} must be a group id or a list of group ids`);
    refs.push(...given.map((id) => ({ id, from: `input.${groupsField}` })));
  }
  if (input.groupsAttribute !== undefined) {
    const attr = input.groupsAttribute;
    if (typeof attr !== 'string' || attr === '') {
      throw new InvalidInvocationError('input.groupsAttribute must name an attribute of data');
    }
    const held = ids(data[attr]);
    if (!held) throw new InvalidInvocationError(`data.${attr} (input.groupsAttribute) must hold a group id or ids`);
    refs.push(...held.map((id) => ({ id, from: `data.${attr} (input.groupsAttribute)` })));
  }
  if (refs.length === 0) {
    throw new InvalidInvocationError(
      `${name} needs input.${groupsField} or input.groupsAttribute: the groups' ${fields.system} ids`,
    );
  }
  const seen = new Set<string>();
  const unique = refs.filter((r) => !seen.has(r.id) && seen.add(r.id));
  return { refs: unique, ignoreExisting: input.ignoreExisting === true };
}

/** The group ids of the input (see readGroupRefs). */
export function readMembershipInput(
  name: string,
  input: Record<string, unknown>,
  data: InvokeData,
  fields: MembershipFields,
): MembershipInput {
  const { refs, ignoreExisting } = readGroupRefs(name, input, data, fields);
  return { groups: refs.map((r) => r.id), ignoreExisting };
}
