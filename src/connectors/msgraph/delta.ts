/**
 * Incremental reads through delta rounds (`/users/delta`, `/groups/delta`). The first round reads every object
 * and ends with a `@odata.deltaLink`, kept per kind as the task's cursor; later rounds start from it. A later
 * round sends changed objects with only the changed properties, so each is read again in full through `$batch`
 * (twenty per call): a card never loses the attributes the round left out, and the task's filter can be
 * evaluated on the whole object (delta cannot filter). `@removed`, and an object that no longer matches the
 * filter or is now excluded, is a delete op. A group's members@delta may be split over pages (the same group
 * again): the first round merges them by id; a later round reads the members of each changed group again,
 * one paged call per group. An expired token (`syncStateNotFound`, 410 Gone) raises ResyncRequired: the engine
 * reads that kind in full once and marks what that round did not return.
 */
import { mapOrdered } from '../kit/subqueries.js';
import {
  type ExtractContext,
  ExtractError,
  type ExtractedRecord,
  type ExtractOutcome,
  ResyncRequired,
} from '../types.js';
import { type GraphObject, GraphRefusal } from './api.js';
import { batchGet } from './batch.js';
import { graphUrl } from './config.js';
import { incomplete, type RunState, record } from './full.js';
import { compileLocalFilter, type LocalFilter } from './local-filter.js';
import { readMembers } from './memberships.js';
import { groupExcluded, userExcluded } from './plan.js';
import { withQuery } from './query.js';

type Kind = 'users' | 'groups';
const RECORD_KIND = { users: 'identity', groups: 'access' } as const;
/** Changed objects read again per round of $batch calls: bounded memory, twenty per call. */
const REREAD_CHUNK = 200;

interface KindDelta {
  kind: Kind;
  cursor?: string;
  select: string[];
  filter?: LocalFilter;
  excluded(o: GraphObject): boolean;
}

export async function* deltaRead(
  ctx: ExtractContext,
  s: RunState,
  outcome: ExtractOutcome,
): AsyncGenerator<ExtractedRecord> {
  const p = s.plan;
  const cursors = ctx.mode === 'incremental' ? ctx.cursors : {};
  const links: Partial<Record<Kind, string>> = {};
  if (p.access) {
    const filter = p.groups.filter ? compileLocalFilter(p.groups.filter) : undefined;
    const d: KindDelta = {
      kind: 'groups',
      cursor: cursors.access,
      select: [...new Set([...p.groupSelect, ...(filter?.properties ?? [])])],
      filter,
      excluded: (g) => groupExcluded(p, g),
    };
    links.groups = yield* groupsRound(ctx, s, d);
  }
  if (p.identity) {
    const filter = p.users.filter ? compileLocalFilter(p.users.filter) : undefined;
    const d: KindDelta = {
      kind: 'users',
      cursor: cursors.identity,
      select: [...new Set([...p.userSelect, ...(filter?.properties ?? [])])],
      filter,
      excluded: (u) => userExcluded(p, u),
    };
    links.users = yield* usersRound(ctx, s, d);
  }
  const next: NonNullable<ExtractOutcome['cursors']> = {};
  if (links.groups) next.access = links.groups;
  if (links.users) next.identity = links.users;
  outcome.cursors = next;
}

/** The round's first URL: the stored deltaLink, or the kind's delta endpoint with $select. */
function firstUrl(s: RunState, d: KindDelta, extra: string[] = []): URL {
  if (d.cursor === undefined) {
    return withQuery(graphUrl(s.host, `/${d.kind}/delta`), [['$select', [...d.select, ...extra].join(',')]]);
  }
  let url: URL;
  try {
    url = new URL(d.cursor);
  } catch {
    throw new ResyncRequired(RECORD_KIND[d.kind], 'the stored cursor is not a delta link');
  }
  if (url.origin !== s.host.origin || !url.pathname.endsWith(`/${d.kind}/delta`)) {
    throw new ResyncRequired(
      RECORD_KIND[d.kind],
      `the stored cursor is not a ${d.kind} delta link of ${s.host.origin}`,
    );
  }
  return url;
}

/** The pages of a round; an expired token is ResyncRequired, and a round without a deltaLink is incomplete. */
async function* round(s: RunState, d: KindDelta, url: URL, done: (link: string | undefined) => void) {
  const listing = s.api.list(url);
  try {
    for await (const page of listing) yield page;
  } catch (e) {
    if (e instanceof GraphRefusal && (e.code === 'syncStateNotFound' || e.httpStatus === 410)) {
      throw new ResyncRequired(RECORD_KIND[d.kind], `Graph no longer knows the ${d.kind} delta token (${e.message})`);
    }
    throw e;
  }
  const o = listing.outcome();
  incomplete(s, o);
  if (o.complete && !o.deltaLink) s.reasons.push(`the ${d.kind} delta round ended without a deltaLink`);
  done(o.complete ? o.deltaLink : undefined);
}

const removed = (o: GraphObject): boolean => o['@removed'] !== undefined;
const del = (s: RunState, d: KindDelta, id: string): ExtractedRecord => {
  s.records++;
  return { kind: RECORD_KIND[d.kind], op: 'delete', key: id, data: { id } };
};

/** Whether the object belongs to the task: not excluded and matching the filter. */
const belongs = (d: KindDelta, o: GraphObject): boolean => !d.excluded(o) && (d.filter?.matches(o) ?? true);

async function* usersRound(
  ctx: ExtractContext,
  s: RunState,
  d: KindDelta,
): AsyncGenerator<ExtractedRecord, string | undefined> {
  let link: string | undefined;
  const changed: string[] = [];
  for await (const page of round(s, d, firstUrl(s, d), (l) => (link = l))) {
    for (const u of page) {
      const id = String(u.id);
      if (removed(u)) yield del(s, d, id);
      else if (d.cursor === undefined) {
        if (belongs(d, u)) yield record(s, 'identity', u);
      } else changed.push(id);
    }
    if (changed.length >= REREAD_CHUNK) yield* reread(ctx, s, d, changed.splice(0));
    s.progress();
  }
  yield* reread(ctx, s, d, changed);
  return link;
}

/** Changed objects of a later round read again in full; gone or no longer matching: a delete. */
async function* reread(
  ctx: ExtractContext,
  s: RunState,
  d: KindDelta,
  ids: readonly string[],
  members?: Map<string, string[]>,
): AsyncGenerator<ExtractedRecord> {
  if (ids.length === 0) return;
  const path = (id: string) => `/${d.kind}/${encodeURIComponent(id)}?$select=${encodeURIComponent(d.select.join(','))}`;
  const answers = await batchGet(s.api, s.host, ids.map(path), ctx.signal);
  for (const id of ids) {
    const a = answers.get(path(id));
    if (!a) continue;
    if (a.status === 404) yield del(s, d, id);
    else if (a.status !== 200 || typeof a.body !== 'object' || a.body === null) {
      throw new ExtractError(
        `GET /v1.0/${d.kind}/${id} in $batch answered HTTP ${a.status}: ${JSON.stringify(a.body)}`,
      );
    } else {
      const o = a.body as GraphObject;
      if (!belongs(d, o)) yield del(s, d, id);
      else yield record(s, RECORD_KIND[d.kind], members ? { ...o, members: members.get(id) ?? [] } : o);
    }
  }
}

async function* groupsRound(
  ctx: ExtractContext,
  s: RunState,
  d: KindDelta,
): AsyncGenerator<ExtractedRecord, string | undefined> {
  let link: string | undefined;
  const withMembers = s.plan.groupMembers;
  // The first round: groups merged by id (members@delta split over pages). Later: the ids that changed.
  const merged = new Map<string, { group: GraphObject; members: Set<string> }>();
  const changed = new Set<string>();
  for await (const page of round(s, d, firstUrl(s, d, withMembers ? ['members'] : []), (l) => (link = l))) {
    for (const g of page) {
      const id = String(g.id);
      if (removed(g)) {
        merged.delete(id);
        changed.delete(id);
        yield del(s, d, id);
      } else if (d.cursor !== undefined) changed.add(id);
      else mergeGroup(merged, g);
    }
    s.progress();
  }
  for (const { group, members } of merged.values()) {
    if (belongs(d, group)) yield record(s, 'access', withMembers ? { ...group, members: [...members] } : group);
  }
  const ids = [...changed];
  for (let i = 0; i < ids.length; i += REREAD_CHUNK) {
    const chunk = ids.slice(i, i + REREAD_CHUNK);
    const members = withMembers ? await membersOf(s, chunk) : undefined;
    yield* reread(ctx, s, d, chunk, members);
  }
  return link;
}

function mergeGroup(merged: Map<string, { group: GraphObject; members: Set<string> }>, g: GraphObject): void {
  const id = String(g.id);
  const { 'members@delta': delta, ...props } = g;
  const entry = merged.get(id) ?? { group: { id }, members: new Set<string>() };
  merged.set(id, entry);
  Object.assign(entry.group, props);
  for (const m of Array.isArray(delta) ? delta : []) {
    const mid = String((m as GraphObject).id);
    if ((m as GraphObject)['@removed'] !== undefined) entry.members.delete(mid);
    else entry.members.add(mid);
  }
}

async function membersOf(s: RunState, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let i = 0;
  for await (const list of mapOrdered(ids, s.concurrency, (id) => readMembers(s.api, s.host, id).catch(gone))) {
    out.set(
      ids[i++],
      list.map((m) => String(m.id)),
    );
  }
  return out;
}

/** A group deleted since the round listed it has no members to read; its removal comes in the next round. */
function gone(e: unknown): GraphObject[] {
  if (e instanceof GraphRefusal && e.httpStatus === 404) return [];
  throw e;
}
