/**
 * The scheduled extract. Groups are read before users, so that a user whose `groups` the server leaves out gets
 * them from the groups' `members`; groups whose `members` are left out wait (in memory: groups are few) until
 * the users' `groups` are known. A membership read that the run does not load anyway (an identity-only task
 * mapping `groups`, or an incremental run) is a full read of ids and memberships only.
 * Incremental tasks keep, per kind, the highest `meta.lastModified` read (reads.ts). The extract is
 * complete unless a listing met something it cannot trust (list.ts); then no deletions are marked.
 */
import type { TaskMapping } from '../../model/resources.js';
import {
  type ExtractContext,
  type ExtractedRecord,
  type Extraction,
  type ExtractOutcome,
  type RecordKind,
  ResyncRequired,
} from '../types.js';
import type { ScimApi } from './api.js';
import { mappedAttributes, maps } from './attributes.js';
import { DEFAULT_PAGE_SIZE, scimSource } from './config.js';
import type { ScimResource } from './list.js';
import { GroupIndex, MemberIndex } from './memberships.js';
import { readFeatures } from './provider.js';
import { type KindQuery, type KindRead, readKind } from './reads.js';
import { openScimSession, type ScimRuntimeOptions } from './session.js';

export function extractScim(ctx: ExtractContext, options: ScimRuntimeOptions = {}): Extraction {
  const outcome: ExtractOutcome = { complete: true };
  return { [Symbol.asyncIterator]: () => run(ctx, options, outcome), outcome: () => outcome };
}

/** What one run reads, worked out from the task. */
interface Plan {
  identity?: TaskMapping;
  access?: TaskMapping;
  /** Users' `groups` are mapped: computed from the groups' members when a user has none. */
  userGroups: boolean;
  /** Groups' `members` are mapped: computed from the users' groups when a group has none. */
  groupMembers: boolean;
  incremental: boolean;
}

function plan(ctx: ExtractContext): Plan {
  const mt = ctx.task.spec.mappingsType ?? 'identityAndAccess';
  const { mappings } = ctx.task.spec;
  const identity = mt === 'identity' || mt === 'identityAndAccess' ? mappings?.identity : undefined;
  const access = mt === 'access' || mt === 'identityAndAccess' ? mappings?.access : undefined;
  return {
    identity,
    access,
    userGroups: maps(identity, 'groups'),
    groupMembers: maps(access, 'members'),
    incremental: ctx.task.spec.fetch === 'incremental',
  };
}

interface RunState {
  ctx: ExtractContext;
  api: ScimApi;
  base: URL;
  records: number;
  reasons: string[];
}

async function* run(ctx: ExtractContext, options: ScimRuntimeOptions, outcome: ExtractOutcome) {
  const session = await openScimSession(ctx, options);
  const state: RunState = { ctx, api: session.api, base: session.baseUrl, records: 0, reasons: [] };
  try {
    yield* extractKinds(state, plan(ctx), outcome);
    if (state.reasons.length > 0) {
      outcome.complete = false;
      outcome.reason = `${state.reasons.join('; ')}: deletion marking skipped`;
    }
    ctx.log.info(
      { records: state.records, apiCalls: session.api.callsMade, complete: outcome.complete },
      'SCIM extract finished',
    );
  } catch (e) {
    throw session.toExtractError(e);
  } finally {
    ctx.progress({ records: state.records, apiCalls: session.api.callsMade });
    await session.close();
  }
}

/** The two kinds' queries of this run; `attributes` and `cursor` vary by read. */
interface Queries {
  groups(attributes: readonly string[] | undefined, cursor?: string): KindQuery;
  users(attributes: readonly string[] | undefined, cursor?: string): KindQuery;
}

function queries(ctx: ExtractContext): Queries {
  const source = scimSource(ctx.task);
  const pageSize = ctx.connector.spec.scim?.pageSize ?? DEFAULT_PAGE_SIZE;
  return {
    groups: (attributes, cursor) => ({
      kind: 'access',
      path: '/Groups',
      noun: 'groups',
      filter: source.groupsFilter,
      filterField: 'spec.source.scim.groupsFilter',
      attributes,
      pageSize,
      cursor,
    }),
    users: (attributes, cursor) => ({
      kind: 'identity',
      path: '/Users',
      noun: 'users',
      filter: source.usersFilter,
      filterField: 'spec.source.scim.usersFilter',
      attributes,
      pageSize,
      cursor,
    }),
  };
}

async function* extractKinds(s: RunState, p: Plan, outcome: ExtractOutcome): AsyncGenerator<ExtractedRecord> {
  const cursors = await usableCursors(s, p);
  const q = queries(s.ctx);
  const meta = p.incremental ? ['meta'] : [];
  const groupIndex = p.userGroups ? new GroupIndex() : undefined;
  const held: ScimResource[] = [];
  let groupsIndexed = false;
  if (p.access) {
    const extra = [...meta, ...(p.userGroups ? ['displayName', 'members'] : [])];
    const read = readKind(s.api, s.base, q.groups(mappedAttributes(p.access, extra), cursors.access), s.ctx.log);
    for await (const page of read) {
      const out: ScimResource[] = [];
      for (const g of page) {
        // Only a full read knows every group a user is in.
        if (groupIndex && read.full) groupIndex.add(g);
        if (p.groupMembers && g.members === undefined) held.push(g);
        else out.push(g);
      }
      yield* emit(s, 'access', out);
    }
    finish(s, read, 'access', p, outcome);
    groupsIndexed = read.full;
  }
  if (groupIndex && !groupsIndexed) {
    await indexRead(s, q.groups(['id', 'displayName', 'members']), (g) => groupIndex.add(g));
  }
  const memberIndex = held.length > 0 ? new MemberIndex() : undefined;
  let usersIndexed = false;
  if (p.identity) {
    const extra = [...meta, ...(memberIndex ? ['userName', 'groups'] : [])];
    const read = readKind(s.api, s.base, q.users(mappedAttributes(p.identity, extra), cursors.identity), s.ctx.log);
    for await (const page of read) {
      if (memberIndex && read.full) for (const u of page) memberIndex.add(u);
      yield* emit(s, 'identity', groupIndex ? page.map((u) => groupIndex.complete(u)) : page);
    }
    finish(s, read, 'identity', p, outcome);
    usersIndexed = read.full;
  }
  if (!memberIndex) return;
  if (!usersIndexed) await indexRead(s, q.users(['id', 'userName', 'groups']), (u) => memberIndex.add(u));
  yield* emit(
    s,
    'access',
    held.map((g) => memberIndex.complete(g)),
  );
}

/**
 * A full read of memberships only, not loaded: what the computed side needs when the loaded read of the other
 * kind was incremental or not made. Its incompleteness is the run's too (memberships would be short).
 */
async function indexRead(s: RunState, query: KindQuery, add: (r: ScimResource) => void): Promise<void> {
  const read = readKind(s.api, s.base, query, s.ctx.log);
  for await (const page of read) for (const r of page) add(r);
  const o = read.outcome();
  if (!o.complete && o.reason) s.reasons.push(`memberships: ${o.reason}`);
}

function* emit(s: RunState, kind: RecordKind, resources: ScimResource[]): Generator<ExtractedRecord> {
  for (const data of resources) {
    s.records++;
    yield { kind, data };
  }
  s.ctx.progress({ records: s.records, apiCalls: s.api.callsMade });
}

/** A finished read: its reason if incomplete, its cursor for incremental tasks. */
function finish(s: RunState, read: KindRead, kind: RecordKind, p: Plan, outcome: ExtractOutcome): void {
  const o = read.outcome();
  if (!o.complete && o.reason) s.reasons.push(o.reason);
  if (p.incremental && read.highest !== undefined) outcome.cursors = { ...outcome.cursors, [kind]: read.highest };
}

/**
 * The cursors of an incremental run, once the ServiceProviderConfig says the server filters. A server that does
 * not cannot continue from a cursor: ResyncRequired for a kind that has one (the engine reads it in full, and
 * asks again for the other kind).
 */
async function usableCursors(s: RunState, p: Plan): Promise<Partial<Record<RecordKind, string>>> {
  const { ctx } = s;
  const cursors = ctx.mode === 'incremental' ? ctx.cursors : {};
  const kind = (['access', 'identity'] as const).find((k) => cursors[k] !== undefined);
  if (!p.incremental || kind === undefined) return {};
  const f = await readFeatures(s.api, s.base);
  if (f.filter) return { identity: cursors.identity, access: cursors.access };
  throw new ResyncRequired(
    kind,
    'the SCIM server does not support filters (ServiceProviderConfig filter.supported is not true)',
  );
}
