/**
 * The scheduled extract. Groups are read first and indexed by DN, so that users' `memberOf` resolves to group
 * keys as they stream; groups whose mapping has references (members, nested groups) wait in memory (groups are
 * few) until the users are indexed too. Incremental runs add the change cursor's filter (incremental.ts).
 * The extract is complete unless a search failed, which fails the run: a paged read has no silent short end.
 */
import type { Entry } from 'ldapts';
import type { TaskMapping } from '../../model/resources.js';
import type { ExtractContext, ExtractedRecord, Extraction, ExtractOutcome, RecordKind } from '../types.js';
import { type KindSource, ldapSource } from './config.js';
import { and } from './escape.js';
import { type ChangeTracker, changeTracker } from './incremental.js';
import { pagedSearch } from './read.js';
import { attributeOf, projector, toRecord, wanted } from './records.js';
import { DnIndex, type ReferenceAttribute, resolveReferences, Unresolved } from './references.js';
import { type AttributeShapes, readShapes } from './schema.js';
import { type LdapSession, openLdapSession } from './session.js';

export function extractLdap(ctx: ExtractContext): Extraction {
  const outcome: ExtractOutcome = { complete: true };
  return { [Symbol.asyncIterator]: () => run(ctx, outcome), outcome: () => outcome };
}

interface KindPlan {
  kind: RecordKind;
  mapping: TaskMapping;
  source: KindSource;
  unique: string;
  refs: ReferenceAttribute[];
}

interface RunState {
  ctx: ExtractContext;
  session: LdapSession;
  shapes: AttributeShapes;
  tracker: ChangeTracker;
  indexes: Partial<Record<RecordKind, DnIndex>>;
  unresolved: Unresolved;
  records: number;
  calls: number;
}

function plans(ctx: ExtractContext, session: LdapSession): { identity?: KindPlan; access?: KindPlan } {
  const mt = ctx.task.spec.mappingsType ?? 'identityAndAccess';
  const src = ldapSource(ctx.task, session.settings);
  const { mappings } = ctx.task.spec;
  const plan = (kind: RecordKind, mapping: TaskMapping | undefined, source: KindSource): KindPlan | undefined => {
    if (!mapping) return undefined;
    const unique = mapping.attributes.find((a) => a.unique);
    return {
      kind,
      mapping,
      source,
      unique: attributeOf(
        unique?.external ?? (session.settings.flavor === 'activeDirectory' ? 'objectGUID' : 'entryUUID'),
      ),
      refs: mapping.attributes
        .filter((a) => a.references === 'identity' || a.references === 'access')
        .map((a) => ({ name: attributeOf(a.external), references: a.references as RecordKind })),
    };
  };
  return {
    identity:
      mt === 'identity' || mt === 'identityAndAccess' ? plan('identity', mappings?.identity, src.users) : undefined,
    access: mt === 'access' || mt === 'identityAndAccess' ? plan('access', mappings?.access, src.groups) : undefined,
  };
}

async function* run(ctx: ExtractContext, outcome: ExtractOutcome): AsyncGenerator<ExtractedRecord> {
  const session = await openLdapSession(ctx);
  const s: RunState = {
    ctx,
    session,
    shapes: { multi: () => undefined },
    tracker: undefined as unknown as ChangeTracker,
    indexes: {},
    unresolved: new Unresolved(),
    records: 0,
    calls: 0,
  };
  let doing = 'reading the directory';
  try {
    s.shapes = await readShapes(session.client);
    s.tracker = await changeTracker(ctx, session);
    const p = plans(ctx, session);
    doing = 'indexing the DNs that memberships refer to';
    await indexForIncremental(s, p);
    if (p.access) {
      doing = `reading groups under ${p.access.source.baseDn}`;
      yield* readGroupsAndUsers(s, p.access, p.identity, (d) => {
        doing = d;
      });
    } else if (p.identity) {
      doing = `reading users under ${p.identity.source.baseDn}`;
      yield* emitAll(s, p.identity, readKind(s, p.identity));
    }
    doing = 'reading deletes';
    yield* s.tracker.deletes([p.identity, p.access].filter((k): k is KindPlan => !!k));
    outcome.cursors = s.tracker.cursors();
    outcome.notes = [...s.unresolved.notes(), ...(s.tracker.notes?.() ?? [])];
    ctx.log.info({ records: s.records, searches: s.calls }, 'LDAP extract finished');
  } catch (e) {
    throw session.toError(e, doing);
  } finally {
    ctx.progress({ records: s.records, apiCalls: s.calls });
    await session.close();
  }
}

async function* readGroupsAndUsers(
  s: RunState,
  groups: KindPlan,
  users: KindPlan | undefined,
  doing: (d: string) => void,
): AsyncGenerator<ExtractedRecord> {
  const holdGroups = groups.refs.length > 0;
  const held: Array<Record<string, unknown>> = [];
  // A kind is indexed by DN only when something references it: the index grows with the entries read.
  const referenced = new Set([...groups.refs, ...(users?.refs ?? [])].map((r) => r.references));
  if (referenced.has('access')) s.indexes.access ??= new DnIndex();
  for await (const page of readKind(s, groups)) {
    if (holdGroups) held.push(...page);
    else yield* emit(s, groups, page);
  }
  if (users) {
    doing(`reading users under ${users.source.baseDn}`);
    if (referenced.has('identity')) s.indexes.identity ??= new DnIndex();
    yield* emitAll(s, users, readKind(s, users));
  }
  yield* emit(s, groups, held);
}

async function* emitAll(s: RunState, plan: KindPlan, read: AsyncGenerator<Array<Record<string, unknown>>>) {
  for await (const page of read) yield* emit(s, plan, page);
}

function* emit(s: RunState, plan: KindPlan, page: Array<Record<string, unknown>>): Generator<ExtractedRecord> {
  const resolve = plan.refs.length > 0;
  for (const data of page) {
    s.records++;
    yield { kind: plan.kind, data: resolve ? resolveReferences(data, plan.refs, s.indexes, s.unresolved) : data };
  }
}

/** The kind's entries as records, a page at a time (DN values still unresolved), indexed by DN as they pass. */
async function* readKind(s: RunState, plan: KindPlan): AsyncGenerator<Array<Record<string, unknown>>> {
  const w = wanted(plan.mapping, [plan.unique, ...plan.refs.map((r) => r.name)]);
  const query = s.tracker.query(plan.kind, plan.source.filter);
  const read = pagedSearch(s.session.client, {
    baseDn: plan.source.baseDn,
    filter: and(query.filter),
    attributes: [...new Set([...w.request, ...query.attributes])],
    pageSize: s.session.settings.pageSize,
  });
  const index = s.indexes[plan.kind];
  const project = projector(w.names, s.shapes);
  for await (const page of read.pages) {
    s.calls++;
    const out: Array<Record<string, unknown>> = [];
    for (const entry of page as Entry[]) {
      if (!s.tracker.accept(plan.kind, entry)) continue;
      const data = project(entry);
      index?.add(entry.dn, data[plan.unique]);
      out.push(data);
    }
    yield out;
    s.ctx.progress({ records: s.records, apiCalls: s.calls });
  }
}

/**
 * An incremental run reads only what changed, but memberships name any record: the kinds that references
 * point to are indexed in full first (DN and unique attribute only), so that an unchanged group still resolves.
 */
async function indexForIncremental(s: RunState, p: { identity?: KindPlan; access?: KindPlan }): Promise<void> {
  if (s.ctx.task.spec.fetch !== 'incremental' || s.ctx.mode !== 'incremental') return;
  const referenced = new Set([p.identity, p.access].flatMap((k) => k?.refs.map((r) => r.references) ?? []));
  for (const plan of [p.access, p.identity]) {
    if (!plan || !referenced.has(plan.kind) || !s.ctx.cursors[plan.kind]) continue;
    const index = new DnIndex();
    const read = pagedSearch(s.session.client, {
      baseDn: plan.source.baseDn,
      filter: plan.source.filter,
      attributes: [plan.unique],
      pageSize: s.session.settings.pageSize,
    });
    for await (const page of read.pages) {
      s.calls++;
      for (const entry of page) index.add(entry.dn, toRecord(entry, [plan.unique], s.shapes)[plan.unique]);
    }
    s.indexes[plan.kind] = index;
  }
}
