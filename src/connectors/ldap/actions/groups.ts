/**
 * Group and membership activities, and the reads. Groups are named by DN (the access mapping's dn, or
 * `input.groups` for memberships, as the seeds require the DN mapping in both mappings).
 *   addUserToGroups / removeUserFromGroups   modify add / delete of `member` on each group    → 204 {groups}
 *   createGroup     add (groupOfNames needs input.members; AD `group`)                       → 201 {dn}
 *   deleteGroup     delete                                                                     → 204
 *   verifyUser / verifyGroup   the entry exists                                               → 200, else 404
 *   verifyGroupMembership      the user is a member of input.group                            → 200, else 404
 *   readUser        the identity mapping's attributes of the user, by local name              → 200 {..}
 * Values in filters are escaped (RFC 4515); DNs come whole from data or input.
 */
import { Attribute, Change } from 'ldapts';
import type { ActionHandler } from '../../types.js';
import { escapeFilterValue } from '../escape.js';
import { attributeOf, normalDn, toRecord } from '../records.js';
import { readShapes } from '../schema.js';
import type { LdapSession } from '../session.js';
import { BINARY_ATTRIBUTES } from '../values.js';
import { dnFrom, dnList, extraAttributes, type Kind, rdnOf, requireMapping, writtenAttributes } from './mapping.js';
import { ActivityFailure, activity } from './run.js';

const member = (operation: 'add' | 'delete', dn: string): Change =>
  new Change({ operation, modification: new Attribute({ type: 'member', values: [dn] }) });

const membership =
  (operation: 'add' | 'delete', name: string): ActionHandler =>
  async (ctx, input, data) => {
    const user = dnFrom(requireMapping(ctx, 'identity', name), 'identity', data, name);
    const groups = dnList(input, 'groups', name);
    return activity(ctx, async (s) => {
      const changed: string[] = [];
      const unchanged: string[] = [];
      for (const g of groups) {
        try {
          await s.client.modify(g, member(operation, user));
          changed.push(g);
        } catch (e) {
          // 20 typeOrValueExists: already a member; 16 noSuchAttribute: not a member. Both are the goal reached.
          const code = (e as { code?: number }).code;
          if (code !== 20 && code !== 16) throw e;
          unchanged.push(g);
        }
      }
      return { statusCode: 204, response: { changed, unchanged } };
    });
  };

export const addUserToGroups = membership('add', 'addUserToGroups');
export const removeUserFromGroups = membership('delete', 'removeUserFromGroups');

export const createGroup: ActionHandler = async (ctx, input, data) => {
  const mapping = requireMapping(ctx, 'access', 'createGroup');
  const dn = dnFrom(mapping, 'access', data, 'createGroup');
  const written = writtenAttributes(mapping, data).filter((w) => w.values !== null);
  const members = input.members === undefined ? [] : dnList(input, 'members', 'createGroup');
  const extra = extraAttributes(input, 'createGroup');
  return activity(ctx, async (s) => {
    const ad = s.settings.flavor === 'activeDirectory';
    if (!ad && members.length === 0) {
      throw new ActivityFailure('createGroup: a groupOfNames needs at least one member: give input.members (DNs)', 400);
    }
    const entry: Record<string, Array<string | Buffer>> = { ...extra };
    for (const w of written) entry[w.attribute] = w.values as Array<string | Buffer>;
    const rdn = rdnOf(dn);
    if (rdn && !Object.keys(entry).some((k) => k.toLowerCase() === rdn.attribute.toLowerCase()))
      entry[rdn.attribute] = [rdn.value];
    entry.objectClass ??= ad ? ['top', 'group'] : ['groupOfNames'];
    if (ad && !entry.groupType) entry.groupType = ['-2147483646'];
    if (members.length > 0) entry.member = members;
    await s.client.add(dn, entry as Record<string, string[]>);
    return { statusCode: 201, response: { dn } };
  });
};

export const deleteGroup: ActionHandler = async (ctx, _input, data) => {
  const dn = dnFrom(requireMapping(ctx, 'access', 'deleteGroup'), 'access', data, 'deleteGroup');
  return activity(ctx, async (s) => {
    await s.client.del(dn);
    return { statusCode: 204, response: null };
  });
};

async function exists(s: LdapSession, dn: string, filter = '(objectClass=*)'): Promise<boolean> {
  try {
    const { searchEntries } = await s.client.search(dn, { scope: 'base', filter, attributes: ['1.1'] });
    return searchEntries.length > 0;
  } catch (e) {
    if ((e as { code?: number }).code === 32) return false;
    throw e;
  }
}

const verify =
  (kind: Kind, name: string, noun: string): ActionHandler =>
  async (ctx, _input, data) => {
    const dn = dnFrom(requireMapping(ctx, kind, name), kind, data, name);
    return activity(ctx, async (s) => {
      if (!(await exists(s, dn))) throw new ActivityFailure(`no ${noun} ${dn}`, 404);
      return { statusCode: 200, response: { dn, exists: true } };
    });
  };

export const verifyUser = verify('identity', 'verifyUser', 'user');
export const verifyGroup = verify('access', 'verifyGroup', 'group');

export const verifyGroupMembership: ActionHandler = async (ctx, input, data) => {
  const user = dnFrom(
    requireMapping(ctx, 'identity', 'verifyGroupMembership'),
    'identity',
    data,
    'verifyGroupMembership',
  );
  const [group] = dnList(input, 'group', 'verifyGroupMembership');
  return activity(ctx, async (s) => {
    if (!(await exists(s, group, `(member=${escapeFilterValue(user)})`))) {
      throw new ActivityFailure(`${user} is not a member of ${group}`, 404);
    }
    return { statusCode: 200, response: { user, group, member: true } };
  });
};

export const readUser: ActionHandler = async (ctx, _input, data) => {
  const mapping = requireMapping(ctx, 'identity', 'readUser');
  const dn = dnFrom(mapping, 'identity', data, 'readUser');
  return activity(ctx, async (s) => {
    const names = mapping.attributes.map((a) => attributeOf(a.external));
    const { searchEntries } = await s.client
      .search(dn, {
        scope: 'base',
        attributes: names.filter((n) => n !== 'dn'),
        explicitBufferAttributes: BINARY_ATTRIBUTES,
      })
      .catch((e: { code?: number }) => {
        if (e?.code === 32) throw new ActivityFailure(`no user ${dn}`, 404);
        throw e;
      });
    const entry = searchEntries[0];
    if (!entry) throw new ActivityFailure(`no user ${dn}`, 404);
    const record = toRecord(entry, names, await readShapes(s.client));
    const out: Record<string, unknown> = {};
    for (const a of mapping.attributes) {
      const v = record[attributeOf(a.external)];
      if (v !== undefined) out[a.local] = v;
    }
    return { statusCode: 200, response: { ...out, dn: normalDn(dn) === normalDn(entry.dn) ? entry.dn : dn } };
  });
};
