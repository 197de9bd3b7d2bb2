/**
 * Memberships when the server leaves one side out: a user's `groups` computed from the groups' `members`
 * (direct, and indirect through nested groups, as RFC 7643 §4.1.2 describes them), and a group's `members`
 * computed from the users' `groups`. What the server sends is never replaced.
 */
import { isRecord } from '../kit/markers.js';
import type { ScimResource } from './list.js';

export interface GroupRef {
  value: string;
  display?: string;
  type: 'direct' | 'indirect';
}

export interface MemberRef {
  value: string;
  display?: string;
  type: 'User';
}

const refs = (v: unknown): Array<Record<string, unknown>> => (Array.isArray(v) ? v.filter(isRecord) : []);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Users' groups from the groups' members. Feed every group, then ask. */
export class GroupIndex {
  private readonly names = new Map<string, string | undefined>();
  /** member id (user or group) → ids of the groups it is a direct member of */
  private readonly parents = new Map<string, Set<string>>();

  add(group: ScimResource): void {
    const id = text(group.id);
    if (id === undefined) return;
    this.names.set(id, text(group.displayName));
    for (const m of refs(group.members)) {
      const member = text(m.value);
      if (member === undefined) continue;
      const set = this.parents.get(member) ?? new Set<string>();
      this.parents.set(member, set);
      set.add(id);
    }
  }

  /** Direct groups of a user, then the groups those are nested in (each group once, direct first). */
  groupsOf(userId: string): GroupRef[] {
    const out = new Map<string, GroupRef>();
    const direct = [...(this.parents.get(userId) ?? [])];
    for (const g of direct) out.set(g, { value: g, display: this.names.get(g), type: 'direct' });
    const queue = [...direct];
    while (queue.length > 0) {
      const g = queue.shift() as string;
      for (const parent of this.parents.get(g) ?? []) {
        if (out.has(parent)) continue;
        out.set(parent, { value: parent, display: this.names.get(parent), type: 'indirect' });
        queue.push(parent);
      }
    }
    return [...out.values()];
  }

  /** The user with `groups` computed, unless the server sent them. */
  complete(user: ScimResource): ScimResource {
    if (user.groups !== undefined || typeof user.id !== 'string') return user;
    return { ...user, groups: this.groupsOf(user.id) };
  }
}

/** Groups' direct members from the users' groups. Feed every user, then ask. */
export class MemberIndex {
  private readonly members = new Map<string, MemberRef[]>();

  add(user: ScimResource): void {
    const id = text(user.id);
    if (id === undefined) return;
    for (const g of refs(user.groups)) {
      const group = text(g.value);
      if (group === undefined || (g.type !== undefined && g.type !== 'direct')) continue;
      const list = this.members.get(group) ?? [];
      this.members.set(group, list);
      list.push({ value: id, display: text(user.userName), type: 'User' });
    }
  }

  /** The group with `members` computed, unless the server sent them. */
  complete(group: ScimResource): ScimResource {
    if (group.members !== undefined || typeof group.id !== 'string') return group;
    return { ...group, members: this.members.get(group.id) ?? [] };
  }
}
