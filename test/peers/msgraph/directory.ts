/**
 * The simulated tenant: users, groups with direct members (users or groups), generic collections, and a change
 * log that delta rounds read. Every write bumps a version; a delta token is the version its round started at,
 * so a later round returns what changed after it, aggregated per object, as msgraph-api.md describes.
 */

export type Obj = Record<string, unknown>;

export interface Change {
  v: number;
  kind: 'users' | 'groups';
  id: string;
  created?: boolean;
  props?: string[];
  removed?: 'deleted' | 'changed';
  memberAdded?: string;
  memberRemoved?: string;
}

/** Properties Graph returns for users without $select (v1.0 default set). */
export const USER_DEFAULTS = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

export const USER_PROPERTIES = new Set([
  ...USER_DEFAULTS,
  'accountEnabled',
  'department',
  'employeeId',
  'mailNickname',
  'companyName',
  'userType',
  'createdDateTime',
  'onPremisesDistinguishedName',
  'onPremisesExtensionAttributes',
  'onPremisesSamAccountName',
  'city',
  'country',
]);

export const GROUP_PROPERTIES = new Set([
  'id',
  'displayName',
  'description',
  'mail',
  'mailEnabled',
  'mailNickname',
  'securityEnabled',
  'groupTypes',
  'createdDateTime',
  'onPremisesDistinguishedName',
  'onPremisesSamAccountName',
]);

export class Directory {
  readonly users = new Map<string, Obj>();
  readonly groups = new Map<string, Obj>();
  readonly members = new Map<string, Set<string>>();
  /** Other collections (`/deviceManagement/managedDevices`) and single resources, by path after /v1.0. */
  readonly collections = new Map<string, Obj[]>();
  readonly resources = new Map<string, Obj>();
  readonly changes: Change[] = [];
  version = 0;
  /** Delta tokens older than this are expired (syncStateNotFound / 410). */
  minDeltaVersion = 0;

  private log(c: Omit<Change, 'v'>): void {
    this.version++;
    this.changes.push({ ...c, v: this.version });
  }

  addUser(u: Obj): void {
    const id = String(u.id);
    this.users.set(id, { ...u, id });
    this.log({ kind: 'users', id, created: true });
  }

  updateUser(id: string, patch: Obj): void {
    const u = this.users.get(id);
    if (!u) throw new Error(`no user ${id}`);
    Object.assign(u, patch);
    this.log({ kind: 'users', id, props: Object.keys(patch) });
  }

  deleteUser(id: string, reason: 'deleted' | 'changed' = 'changed'): void {
    this.users.delete(id);
    for (const [g, set] of this.members) if (set.delete(id)) this.log({ kind: 'groups', id: g, memberRemoved: id });
    this.log({ kind: 'users', id, removed: reason });
  }

  addGroup(g: Obj, members: string[] = []): void {
    const id = String(g.id);
    this.groups.set(id, { ...g, id });
    this.members.set(id, new Set(members));
    this.log({ kind: 'groups', id, created: true });
  }

  updateGroup(id: string, patch: Obj): void {
    const g = this.groups.get(id);
    if (!g) throw new Error(`no group ${id}`);
    Object.assign(g, patch);
    this.log({ kind: 'groups', id, props: Object.keys(patch) });
  }

  deleteGroup(id: string, reason: 'deleted' | 'changed' = 'changed'): void {
    this.groups.delete(id);
    this.members.delete(id);
    this.log({ kind: 'groups', id, removed: reason });
  }

  addMember(group: string, member: string): void {
    this.members.get(group)?.add(member);
    this.log({ kind: 'groups', id: group, memberAdded: member });
  }

  removeMember(group: string, member: string): void {
    this.members.get(group)?.delete(member);
    this.log({ kind: 'groups', id: group, memberRemoved: member });
  }

  /** A new object in a generic collection (`/devices`); generic collections have no delta, only a version. */
  addObject(collection: string, o: Obj): void {
    const list = this.collections.get(collection);
    if (!list) throw new Error(`no collection ${collection}`);
    list.push(o);
    this.version++;
  }

  updateObject(collection: string, id: string, patch: Obj): void {
    const o = this.collections.get(collection)?.find((x) => x.id === id);
    if (!o) throw new Error(`no object ${id} in ${collection}`);
    Object.assign(o, patch);
    this.version++;
  }

  deleteObject(collection: string, id: string): void {
    const list = this.collections.get(collection) ?? [];
    const i = list.findIndex((x) => x.id === id);
    if (i >= 0) list.splice(i, 1);
    this.version++;
  }

  typeOf(id: string): string {
    if (this.users.has(id)) return '#microsoft.graph.user';
    if (this.groups.has(id)) return '#microsoft.graph.group';
    return '#microsoft.graph.directoryObject';
  }

  object(id: string): Obj | undefined {
    return this.users.get(id) ?? this.groups.get(id);
  }

  /** Members of a group and of its nested groups, each once. */
  transitiveMembers(group: string): string[] {
    const out = new Set<string>();
    const queue = [group];
    const seen = new Set<string>([group]);
    while (queue.length > 0) {
      const g = queue.shift() as string;
      for (const m of this.members.get(g) ?? []) {
        out.add(m);
        if (this.groups.has(m) && !seen.has(m)) {
          seen.add(m);
          queue.push(m);
        }
      }
    }
    return [...out];
  }

  /**
   * The objects a delta round returns after `since` (undefined: the initial round): changed objects with the
   * changed properties only, removed ones with `@removed`, groups' member changes as `members@delta`.
   */
  deltaItems(kind: 'users' | 'groups', since: number | undefined, select: string[], memberChunk: number): Obj[] {
    const store = kind === 'users' ? this.users : this.groups;
    const withMembers = kind === 'groups' && select.includes('members');
    const props = select.filter((p) => p !== 'members');
    const pick = (o: Obj, only?: string[]): Obj => {
      const out: Obj = { id: o.id };
      for (const p of only ?? props) if (p !== 'id' && o[p] !== undefined) out[p] = o[p];
      return out;
    };
    const ref = (id: string, removed = false): Obj => ({
      '@odata.type': this.typeOf(id) === '#microsoft.graph.directoryObject' ? '#microsoft.graph.user' : this.typeOf(id),
      id,
      ...(removed ? { '@removed': { reason: 'deleted' } } : {}),
    });
    const out: Obj[] = [];
    const withChunks = (o: Obj, memberRefs: Obj[]): void => {
      if (!withMembers || memberRefs.length === 0) {
        out.push(o);
        return;
      }
      for (let i = 0; i < memberRefs.length; i += memberChunk) {
        out.push({ ...(i === 0 ? o : { id: o.id }), 'members@delta': memberRefs.slice(i, i + memberChunk) });
      }
    };
    if (since === undefined) {
      for (const o of store.values()) {
        withChunks(
          pick(o),
          [...(this.members.get(String(o.id)) ?? [])].map((m) => ref(m)),
        );
      }
      return out;
    }
    const agg = new Map<
      string,
      { created: boolean; props: Set<string>; removed?: string; members: Map<string, boolean> }
    >();
    for (const c of this.changes) {
      if (c.v <= since || c.kind !== kind) continue;
      const a = agg.get(c.id) ?? { created: false, props: new Set<string>(), members: new Map<string, boolean>() };
      agg.set(c.id, a);
      if (c.created) {
        a.created = true;
        a.removed = undefined;
      }
      if (c.removed) a.removed = c.removed;
      for (const p of c.props ?? []) a.props.add(p);
      if (c.memberAdded) a.members.set(c.memberAdded, true);
      if (c.memberRemoved) a.members.set(c.memberRemoved, false);
    }
    for (const [id, a] of agg) {
      const current = store.get(id);
      if (a.removed || !current) {
        out.push({ id, '@removed': { reason: a.removed ?? 'deleted' } });
        continue;
      }
      const changed = a.created ? props : props.filter((p) => a.props.has(p));
      const memberRefs = a.created
        ? [...(this.members.get(id) ?? [])].map((m) => ref(m))
        : [...a.members].map(([m, added]) => ref(m, !added));
      if (changed.length === 0 && (!withMembers || memberRefs.length === 0)) continue;
      withChunks(pick(current, changed), memberRefs);
    }
    return out;
  }
}
