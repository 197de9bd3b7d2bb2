/**
 * What one run reads, worked out from the task: the mappings per kind, which memberships are computed, the
 * `$select` per kind, the filter queries, and the exclusions. Exclusions match object ids and user principal
 * names (users) or display names (groups), case-insensitively, as Entra compares them.
 */
import type { MsgraphSource } from '../../generated/types.js';
import type { Task, TaskMapping } from '../../model/resources.js';
import type { GraphObject } from './api.js';
import { graphSource } from './config.js';
import { type FilterQuery, parseFilterSetting } from './query.js';
import { COMPUTED, maps, selectOf } from './select.js';

export interface Plan {
  source: MsgraphSource;
  identity?: TaskMapping;
  access?: TaskMapping;
  /** A user's memberOf: the groups read by this task it is a direct member of. */
  userMemberOf: boolean;
  /** A group's memberOf (nested groups) and members. */
  groupMemberOf: boolean;
  groupMembers: boolean;
  userSelect: string[];
  groupSelect: string[];
  users: FilterQuery;
  groups: FilterQuery;
  excludedUsers: Set<string>;
  excludedGroups: Set<string>;
  incremental: boolean;
}

const lower = (list: readonly string[] | undefined): Set<string> => new Set((list ?? []).map((s) => s.toLowerCase()));

export function plan(task: Task): Plan {
  const mt = task.spec.mappingsType ?? 'identityAndAccess';
  const { mappings } = task.spec;
  const identity = mt === 'identity' || mt === 'identityAndAccess' ? mappings?.identity : undefined;
  const access = mt === 'access' || mt === 'identityAndAccess' ? mappings?.access : undefined;
  const source = graphSource(task);
  const excludedUsers = lower(source.excludedUsers);
  const excludedGroups = lower(source.excludedGroups);
  return {
    source,
    identity,
    access,
    userMemberOf: maps(identity, 'memberOf'),
    groupMemberOf: maps(access, 'memberOf'),
    groupMembers: maps(access, 'members'),
    // What the exclusions compare is selected too.
    userSelect: selectOf(identity, COMPUTED.identity, excludedUsers.size > 0 ? ['userPrincipalName'] : []),
    groupSelect: selectOf(access, COMPUTED.access, excludedGroups.size > 0 ? ['displayName'] : []),
    users: parseFilterSetting(source.usersFilter),
    groups: parseFilterSetting(source.groupsFilter),
    excludedUsers,
    excludedGroups,
    incremental: task.spec.fetch === 'incremental',
  };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.toLowerCase() : undefined);

export function userExcluded(p: Plan, user: GraphObject): boolean {
  if (p.excludedUsers.size === 0) return false;
  const id = text(user.id);
  const upn = text(user.userPrincipalName);
  return (id !== undefined && p.excludedUsers.has(id)) || (upn !== undefined && p.excludedUsers.has(upn));
}

export function groupExcluded(p: Plan, group: GraphObject): boolean {
  if (p.excludedGroups.size === 0) return false;
  const id = text(group.id);
  const name = text(group.displayName);
  return (id !== undefined && p.excludedGroups.has(id)) || (name !== undefined && p.excludedGroups.has(name));
}
