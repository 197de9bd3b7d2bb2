/**
 * Memberships computed from group members, among the groups this task reads: a user's `memberOf` (the groups
 * it is a direct member of), a group's `memberOf` (the groups it is nested in) and a group's `members`. The
 * members of each group are one paged read (`/groups/{id}/members?$select=id`), a few groups at a time.
 */
import { mapOrdered } from '../kit/subqueries.js';
import type { GraphApi, GraphObject } from './api.js';
import { graphUrl, PAGE_SIZE } from './config.js';
import { withQuery } from './query.js';

export class MembershipIndex {
  /** member id (user or group) → ids of the groups read by the task it is a direct member of */
  private readonly parents = new Map<string, string[]>();
  private readonly members = new Map<string, string[]>();

  set(group: string, members: readonly string[]): void {
    this.members.set(group, [...members]);
    for (const m of members) {
      const list = this.parents.get(m);
      if (list) list.push(group);
      else this.parents.set(m, [group]);
    }
  }

  membersOf(group: string): string[] {
    return this.members.get(group) ?? [];
  }

  memberOf(id: string): string[] {
    return this.parents.get(id) ?? [];
  }
}

/** Every member id of one group, all pages. */
export async function readMembers(api: GraphApi, host: URL, group: string, path = 'members'): Promise<GraphObject[]> {
  const url = withQuery(graphUrl(host, `/groups/${encodeURIComponent(group)}/${path}`), [
    ['$select', 'id'],
    ['$top', String(PAGE_SIZE)],
  ]);
  const out: GraphObject[] = [];
  for await (const page of api.list(url)) out.push(...page);
  return out;
}

/** The members of every group, `concurrency` groups at a time. */
export async function indexMembers(
  api: GraphApi,
  host: URL,
  groups: readonly GraphObject[],
  concurrency: number,
): Promise<MembershipIndex> {
  const index = new MembershipIndex();
  const ids = groups.map((g) => String(g.id));
  let i = 0;
  for await (const members of mapOrdered(ids, concurrency, (id) => readMembers(api, host, id))) {
    index.set(
      ids[i++],
      members.map((m) => String(m.id)),
    );
  }
  return index;
}

/** The user ids that are members of these groups, through nested groups too (transitiveMembers). */
export async function transitiveUsers(api: GraphApi, host: URL, groups: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const g of groups) {
    for (const m of await readMembers(api, host, g, 'transitiveMembers')) {
      if (m['@odata.type'] === undefined || m['@odata.type'] === '#microsoft.graph.user') out.add(String(m.id));
    }
  }
  return out;
}
