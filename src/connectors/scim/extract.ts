/**
 * The scheduled extract. Groups are read before users, so that a user whose `groups` the server leaves out gets
 * them from the groups' `members`; groups whose `members` are left out wait (in memory: groups are few) until
 * the users' `groups` are known. A membership read that the run does not load anyway (an identity-only task
 * mapping `groups`, or an incremental run) is a full read of ids and memberships only.
 * Incremental tasks keep, per kind, the highest `meta.lastModified` read (reads.ts). The extract is
 * complete unless a listing met something it cannot trust (list.ts); then no deletions are marked.
 */
import type { TaskMapping } from '../../model/resources.js';
import type { ExtractContext, ExtractedRecord, Extraction, ExtractOutcome, RecordKind } from '../types.js';
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

async function* extractKinds(s: RunState, p: Plan, outcome: ExtractOutcome): AsyncGenerator<ExtractedRecord> {
  const cursors = await usableCursors(s, p);
  const source = scimSource(s.ctx.task);
  const pageSize = s.ctx.connector.spec.scim?.pageSize ?? DEFAULT_PAGE_SIZE;
  const meta = p.incremental ? ['meta'] : [];
  const groupsQuery = (attributes: readonly string[] | undefined, cursor?: string): KindQuery => ({
    kind: 'access',
    path: '/Groups',
    noun: 'groups',
    filter: source.groupsFilter,
    filterField: 'spec.source.scim.groupsFilter',
    attributes,
    pageSize,
    cursor,
  });
  const usersQuery = (attributes: readonly string[] | undefined, cursor?: string): KindQuery => ({
    kind: 'identity',
    path: '/Users',
    noun: 'users',
    filter: source.usersFilter,
    filterField: 'spec.source.scim.usersFilter',
    attributes,
    pageSize,
    cursor,
  });
  const groupIndex = p.userGroups ? new GroupIndex() : undefined;
  const held: ScimResource[] = [];
  let indexed = false;
  if (p.access) {
    const extra = [...meta, ...(p.userGroups ? ['displayName', 'members'] : [])];
    const read = readKind(s.api, s.base, groupsQuery(mappedAttributes(p.access, extra), cursors.access), s.ctx.log);
    for await (const page of read) {
      const out: ScimResource[] = [];
      for (const g of page) {
        if (groupIndex && read.full) groupIndex.add(g);
        if (p.groupMembers && g.members === undefined) held.push(g);
        else out.push(g);
      }
      yield* emit(s, 'access', out);
    }
    finish(s, read, 'access', p, outcome);
    // Only a full read knows every group a user is in.
    indexed = read.full;
  }
  if (groupIndex && !indexed) {
    for await (const page of readKind(s.api, s.base, groupsQuery(['id', 'displayName', 'members']), s.ctx.log)) {
      for (const g of page) groupIndex.add(g);
    }
  }
  const memberIndex = held.length > 0 ? new MemberIndex() : undefined;
  let usersIndexed = false;
  if (p.identity) {
    const extra = [...meta, ...(memberIndex ? ['userName', 'groups'] : [])];
    const read = readKind(s.api, s.base, usersQuery(mappedAttributes(p.identity, extra), cursors.identity), s.ctx.log);
    for await (const page of read) {
      if (memberIndex) for (const u of page) memberIndex.add(u);
      yield* emit(s, 'identity', groupIndex ? page.map((u) => groupIndex.complete(u)) : page);
    }
    finish(s, read, 'identity', p, outcome);
    usersIndexed = read.full;
  }
  if (!memberIndex) return;
  if (!usersIndexed) {
    const index = new MemberIndex();
    for await (const page of readKind(s.api, s.base, usersQuery(['id', 'userName', 'groups']), s.ctx.log)) {
      for (const u of page) index.add(u);
    }
    yield* emit(
      s,
      'access',
      held.map((g) => index.complete(g)),
    );
  } else
    yield* emit(
      s,
      'access',
      held.map((g) => memberIndex.complete(g)),
    );
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
 * not: the run says so and reads every kind in full.
 */
async function usableCursors(s: RunState, p: Plan): Promise<Partial<Record<RecordKind, string>>> {
  const { ctx } = s;
  const cursors = ctx.mode === 'incremental' ? ctx.cursors : {};
  if (!p.incremental || (cursors.identity === undefined && cursors.access === undefined)) return {};
  const f = await readFeatures(s.api, s.base);
  if (f.filter) return { identity: cursors.identity, access: cursors.access };
  ctx.log.warn(
    {},
    'the SCIM server does not support filters (ServiceProviderConfig filter.supported is not true): ' +
      'reading users and groups in full, not what changed since meta.lastModified',
  );
  return {};
}
