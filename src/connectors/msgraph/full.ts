/**
 * A full read of users and groups. Groups come first (few, held in memory): their members give the users'
 * `memberOf` and the groups' `memberOf` and `members`; then users stream page by page. The task's filters go
 * to Graph; exclusions and `includeMembersOf` / `excludeMembersOf` (transitive membership) are applied before
 * mapping and counted in the run info.
 */
import type { ExtractedRecord } from '../types.js';
import type { GraphApi, GraphObject } from './api.js';
import { graphUrl, PAGE_SIZE } from './config.js';
import { indexMembers, type MembershipIndex, transitiveUsers } from './memberships.js';
import { groupExcluded, type Plan, userExcluded } from './plan.js';
import { ADVANCED_HEADERS, type FilterQuery, withQuery } from './query.js';

export interface RunState {
  api: GraphApi;
  host: URL;
  plan: Plan;
  concurrency: number;
  records: number;
  notes: string[];
  reasons: string[];
  progress(): void;
}

/** A users or groups list with the task's filter; an advanced query gets its header and $count, with a note. */
export function listKind(s: RunState, kind: 'users' | 'groups', select: readonly string[]) {
  const q: FilterQuery = kind === 'users' ? s.plan.users : s.plan.groups;
  const url = withQuery(graphUrl(s.host, `/${kind}`), [
    ['$select', select.join(',')],
    ['$top', String(PAGE_SIZE)],
    ...q.params,
  ]);
  if (q.advanced) {
    s.notes.push(
      `${kind}Filter is an advanced query (${q.advanced}): sent with ConsistencyLevel: eventual and $count=true`,
    );
  }
  return s.api.list(url, q.advanced ? ADVANCED_HEADERS : {});
}

export async function* fullRead(s: RunState): AsyncGenerator<ExtractedRecord> {
  const p = s.plan;
  const needGroups = p.access !== undefined || p.userMemberOf;
  const needMembers = p.userMemberOf || p.groupMemberOf || p.groupMembers;
  let index: MembershipIndex | undefined;
  if (needGroups) {
    const groups = await readGroups(s);
    if (needMembers) index = await indexMembers(s.api, s.host, groups, s.concurrency);
    if (p.access) {
      for (const g of groups) yield record(s, 'access', withGroupMemberships(p, g, index));
      s.progress();
    }
  }
  if (p.identity) yield* readUsers(s, index);
}

async function readGroups(s: RunState): Promise<GraphObject[]> {
  const p = s.plan;
  const select = p.userMemberOf && !p.access ? ['id', 'displayName'] : p.groupSelect;
  const listing = listKind(s, 'groups', select);
  const out: GraphObject[] = [];
  let excluded = 0;
  for await (const page of listing) {
    for (const g of page) {
      if (groupExcluded(p, g)) excluded++;
      else out.push(g);
    }
  }
  incomplete(s, listing.outcome());
  if (excluded > 0) s.notes.push(`${excluded} groups excluded (excludedGroups)`);
  return out;
}

function withGroupMemberships(p: Plan, g: GraphObject, index: MembershipIndex | undefined): GraphObject {
  if (!index) return g;
  const id = String(g.id);
  return {
    ...g,
    ...(p.groupMembers ? { members: index.membersOf(id) } : {}),
    ...(p.groupMemberOf ? { memberOf: index.memberOf(id) } : {}),
  };
}

async function* readUsers(s: RunState, index: MembershipIndex | undefined): AsyncGenerator<ExtractedRecord> {
  const p = s.plan;
  const include = p.source.includeMembersOf?.length
    ? await transitiveUsers(s.api, s.host, p.source.includeMembersOf)
    : undefined;
  const exclude = p.source.excludeMembersOf?.length
    ? await transitiveUsers(s.api, s.host, p.source.excludeMembersOf)
    : undefined;
  const counts = { excluded: 0, notIncluded: 0, excludedMembers: 0 };
  const listing = listKind(s, 'users', p.userSelect);
  for await (const page of listing) {
    for (const u of page) {
      const id = String(u.id);
      if (userExcluded(p, u)) counts.excluded++;
      else if (include && !include.has(id)) counts.notIncluded++;
      else if (exclude?.has(id)) counts.excludedMembers++;
      else yield record(s, 'identity', p.userMemberOf && index ? { ...u, memberOf: index.memberOf(id) } : u);
    }
    s.progress();
  }
  incomplete(s, listing.outcome());
  if (counts.excluded > 0) s.notes.push(`${counts.excluded} users excluded (excludedUsers)`);
  if (counts.notIncluded > 0) s.notes.push(`${counts.notIncluded} users skipped: not members of includeMembersOf`);
  if (counts.excludedMembers > 0) s.notes.push(`${counts.excludedMembers} users skipped: members of excludeMembersOf`);
}

export function record(s: RunState, kind: 'identity' | 'access' | 'generic', data: GraphObject): ExtractedRecord {
  s.records++;
  return { kind, data };
}

export function incomplete(s: RunState, outcome: { complete: boolean; reason?: string }): void {
  if (!outcome.complete && outcome.reason) s.reasons.push(outcome.reason);
}
