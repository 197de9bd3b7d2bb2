/**
 * Change tracking of incremental tasks, one cursor per kind:
 * - OpenLDAP: the highest `modifyTimestamp` read, read again with `>=` (a second has many changes) and the
 *   entry versions already seen at that second left out (entryUUID with entryCSN, so that a second change in
 *   the same second is still read); deletes from the accesslog database
 *   (`reqType=delete`, named by reqEntryUUID) when the server has one and the account may read it.
 * - Active Directory: the highest `uSNChanged` read, bound to the domain controller that counted it (its
 *   dnsHostName, else the URL's host): USNs are per DC, so another DC means ResyncRequired and one full read.
 *   Deletes from the tombstones in `CN=Deleted Objects` (the Show Deleted control, critical: a server that
 *   does not offer it refuses rather than answering without tombstones), named by objectGUID or objectSid,
 *   where the account may read them; otherwise the run info says deletes need a full task.
 * A full run of an incremental task (the first, or after a resync) records where the next one starts.
 */
import { Control, type Entry } from 'ldapts';
import type { TaskMapping } from '../../model/resources.js';
import { type Cursors, type ExtractContext, type ExtractedRecord, type RecordKind, ResyncRequired } from '../types.js';
import { and, escapeFilterValue } from './escape.js';
import type { LdapSession } from './session.js';
import { readRootDse } from './session.js';
import { guidString, sidString } from './values.js';

export interface ChangeTracker {
  /** The kind's filter (with the cursor's condition) and the attributes change tracking needs. */
  query(kind: RecordKind, filter: string): { filter: string; attributes: string[] };
  /** Whether an entry is new to this read (false: seen by the last run at the cursor's second). */
  accept(kind: RecordKind, entry: Entry): boolean;
  /** Deletes since the cursor, for the kinds read (OpenLDAP accesslog). */
  deletes(
    kinds: ReadonlyArray<{ kind: RecordKind; source: { baseDn: string }; unique: string; mapping: TaskMapping }>,
  ): AsyncGenerator<ExtractedRecord>;
  /** The cursors to store after the load. */
  cursors(): Cursors | undefined;
  /** What the run info should say about change tracking (deletes that could not be read). */
  notes?(): string[];
}

interface OpenLdapCursor {
  v: 1;
  ts: string;
  ids: string[];
  /** reqStart of the last accesslog delete seen (or the run's start). */
  log?: string;
}

interface AdCursor {
  v: 1;
  dc: string;
  usn: string;
}

const NONE: ChangeTracker = {
  query: (_k, filter) => ({ filter, attributes: [] }),
  accept: () => true,
  async *deletes() {},
  cursors: () => undefined,
};

export async function changeTracker(ctx: ExtractContext, session: LdapSession): Promise<ChangeTracker> {
  if (ctx.task.spec.fetch !== 'incremental') return NONE;
  const cursors = ctx.mode === 'incremental' ? ctx.cursors : {};
  if (session.settings.flavor === 'activeDirectory') return adTracker(cursors, session);
  return openLdapTracker(cursors, session);
}

const parse = <T>(kind: RecordKind, c: string | undefined, check: (v: T) => boolean): T | undefined => {
  if (c === undefined) return undefined;
  try {
    const v = JSON.parse(c) as T;
    if (check(v)) return v;
  } catch {
    // fall through
  }
  throw new ResyncRequired(kind, 'the stored LDAP cursor is not one this version reads');
};

const first = (v: unknown): string | undefined => (Array.isArray(v) ? (v[0] as string) : (v as string | undefined));

/** Generalized time of a Date, whole seconds: `20261203124038Z`. */
const gtime = (d: Date): string => `${d.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;

/** A safety margin for the first accesslog read: deletes during the full run, and clock differences. */
const LOG_MARGIN_MS = 5 * 60_000;

function openLdapTracker(stored: Cursors, session: LdapSession): ChangeTracker {
  const startedLog = gtime(new Date(Date.now() - LOG_MARGIN_MS));
  const old: Partial<Record<RecordKind, OpenLdapCursor>> = {};
  for (const k of ['identity', 'access'] as const) {
    old[k] = parse<OpenLdapCursor>(k, stored[k], (v) => v?.v === 1 && typeof v.ts === 'string');
  }
  const next: Partial<Record<RecordKind, OpenLdapCursor>> = {};
  const read = new Set<RecordKind>();
  let logSeen: string | undefined;
  const bump = (kind: RecordKind, ts: string, id: string): void => {
    const c = next[kind] ?? { v: 1, ts: old[kind]?.ts ?? '', ids: [...(old[kind]?.ids ?? [])] };
    if (ts > c.ts) next[kind] = { v: 1, ts, ids: [id] };
    else {
      if (ts === c.ts && !c.ids.includes(id)) c.ids.push(id);
      next[kind] = c;
    }
  };
  return {
    query(kind, filter) {
      read.add(kind);
      const c = old[kind];
      const since = c ? `(modifyTimestamp>=${escapeFilterValue(c.ts)})` : undefined;
      return { filter: and(filter, since), attributes: ['modifyTimestamp', 'entryUUID', 'entryCSN'] };
    },
    accept(kind, entry) {
      const ts = first(entry.modifyTimestamp) ?? first(entry.createTimestamp);
      const id = `${first(entry.entryUUID) ?? entry.dn}@${first(entry.entryCSN) ?? ''}`;
      if (!ts) return true;
      const c = old[kind];
      bump(kind, ts, id);
      return !(c && ts === c.ts && c.ids.includes(id));
    },
    async *deletes(kinds) {
      const since = kinds.map((k) => old[k.kind]?.log).find((l) => l !== undefined);
      const probe = await readDeletes(session, since ?? startedLog);
      if (probe === undefined) return;
      logSeen = probe.highest ?? since ?? startedLog;
      if (since === undefined) return;
      for (const d of probe.deletes) {
        // reqStart is unique (it names the log entry): the one at the cursor was handed over last run.
        if (d.start === since) continue;
        for (const k of kinds) {
          if (!underBase(d.dn, k.source.baseDn)) continue;
          const unique = k.unique.toLowerCase();
          const key =
            unique === 'entryuuid' ? d.uuid : unique === 'dn' || unique === 'distinguishedname' ? d.dn : undefined;
          if (key) yield { kind: k.kind, op: 'delete', key, data: { [k.unique]: key } };
        }
      }
    },
    cursors() {
      const out: Cursors = {};
      for (const k of read) {
        const c = next[k] ?? old[k] ?? { v: 1 as const, ts: gtime(new Date(0)), ids: [] };
        out[k] = JSON.stringify({ ...c, ...(logSeen ? { log: logSeen } : {}) });
      }
      return out;
    },
  };
}

const underBase = (dn: string, base: string): boolean => {
  const norm = (s: string): string => s.replace(/\s*,\s*/g, ',').toLowerCase();
  return norm(dn).endsWith(norm(base));
};

interface LogDelete {
  dn: string;
  uuid: string;
  start: string;
}

/** Deletes in cn=accesslog since `since`; undefined when the server has no accesslog the account may read. */
async function readDeletes(
  session: LdapSession,
  since: string,
): Promise<{ deletes: LogDelete[]; highest?: string } | undefined> {
  try {
    const { searchEntries } = await session.client.search('cn=accesslog', {
      scope: 'one',
      filter: `(&(objectClass=auditDelete)(reqResult=0)(reqStart>=${escapeFilterValue(since)}))`,
      attributes: ['reqDN', 'reqEntryUUID', 'reqStart'],
      paged: { pageSize: session.settings.pageSize },
    });
    const deletes = searchEntries
      .map((e) => ({
        dn: String(first(e.reqDN) ?? ''),
        uuid: String(first(e.reqEntryUUID) ?? ''),
        start: String(first(e.reqStart) ?? ''),
      }))
      .filter((d) => d.dn && d.uuid);
    const highest = deletes.reduce<string | undefined>(
      (h, d) => (h === undefined || d.start > h ? d.start : h),
      undefined,
    );
    return { deletes, highest };
  } catch {
    return undefined;
  }
}

async function adTracker(stored: Cursors, session: LdapSession): Promise<ChangeTracker> {
  const root = await readRootDse(session.client);
  const dc = (root.dnsHostName ?? session.settings.url.hostname).toLowerCase();
  const old: Partial<Record<RecordKind, AdCursor>> = {};
  for (const k of ['identity', 'access'] as const) {
    const c = parse<AdCursor>(k, stored[k], (v) => v?.v === 1 && typeof v.usn === 'string' && typeof v.dc === 'string');
    if (c && c.dc !== dc) {
      throw new ResyncRequired(
        k,
        `the uSNChanged cursor was counted by domain controller ${c.dc}, this run reads ${dc}: USNs differ between domain controllers`,
      );
    }
    old[k] = c;
  }
  const highest: Partial<Record<RecordKind, bigint>> = {};
  const read = new Set<RecordKind>();
  const notes: string[] = [];
  return {
    query(kind, filter) {
      read.add(kind);
      const c = old[kind];
      const since = c ? `(uSNChanged>=${BigInt(c.usn) + 1n})` : undefined;
      return { filter: and(filter, since), attributes: ['uSNChanged'] };
    },
    accept(kind, entry) {
      const raw = first(entry.uSNChanged) ?? first(entry.usnchanged);
      if (raw && /^\d+$/.test(raw)) {
        const n = BigInt(raw);
        if (highest[kind] === undefined || n > (highest[kind] as bigint)) highest[kind] = n;
      }
      return true;
    },
    async *deletes(kinds) {
      const since = kinds.map((k) => old[k.kind]?.usn).find((u) => u !== undefined);
      if (since === undefined) return;
      const domain =
        root.defaultNamingContext ?? domainOf(kinds[0]?.source.baseDn ?? '') ?? root.namingContexts[0] ?? '';
      const base = `CN=Deleted Objects,${domain}`;
      let tombstones: Entry[];
      try {
        tombstones = await readTombstones(session, base, BigInt(since) + 1n);
      } catch (e) {
        notes.push(
          `deletes were not read: ${base} could not be read with the Show Deleted control (${(e as Error).message}); a full task marks deletions`,
        );
        return;
      }
      for (const t of tombstones) {
        const classes = ([] as unknown[]).concat(t.objectClass ?? []).map((c) => String(c).toLowerCase());
        const kind: RecordKind | undefined = classes.includes('group')
          ? 'access'
          : classes.includes('user')
            ? 'identity'
            : undefined;
        const k = kinds.find((x) => x.kind === kind);
        const parent = first(t.lastKnownParent);
        if (!k || (parent && !underBase(parent, k.source.baseDn))) continue;
        const usn = first(t.uSNChanged);
        if (usn && /^\d+$/.test(usn) && (highest[k.kind] === undefined || BigInt(usn) > (highest[k.kind] as bigint))) {
          highest[k.kind] = BigInt(usn);
        }
        const key = tombstoneKey(t, k.unique);
        if (key) yield { kind: k.kind, op: 'delete', key, data: { [k.unique]: key } };
      }
    },
    notes: () => notes,
    cursors() {
      const out: Cursors = {};
      for (const k of read) {
        const h = highest[k] ?? (old[k] ? BigInt(old[k].usn) : undefined) ?? BigInt(root.highestCommittedUSN ?? '0');
        out[k] = JSON.stringify({ v: 1, dc, usn: h.toString() });
      }
      return out;
    },
  };
}

/** LDAP_SERVER_SHOW_DELETED_OID: AD returns tombstones only with it. */
export const SHOW_DELETED_OID = '1.2.840.113556.1.4.417';

/** The tombstones deleted at or after `usn` (their uSNChanged is the deletion's). */
async function readTombstones(session: LdapSession, base: string, usn: bigint): Promise<Entry[]> {
  const { searchEntries } = await session.client.search(
    base,
    {
      scope: 'one',
      filter: `(&(isDeleted=TRUE)(uSNChanged>=${usn}))`,
      attributes: ['objectGUID', 'objectSid', 'objectClass', 'lastKnownParent', 'uSNChanged'],
      explicitBufferAttributes: ['objectGUID', 'objectSid'],
      paged: { pageSize: session.settings.pageSize },
    },
    new Control(SHOW_DELETED_OID, { critical: true }),
  );
  return searchEntries;
}

/** A tombstone keeps objectGUID and objectSid: the keys an AD task's unique mapping can name. */
function tombstoneKey(t: Entry, unique: string): string | undefined {
  const u = unique.toLowerCase();
  const raw = u === 'objectguid' ? t.objectGUID : u === 'objectsid' ? t.objectSid : undefined;
  const b = Array.isArray(raw) ? raw[0] : raw;
  if (!Buffer.isBuffer(b)) return undefined;
  return u === 'objectguid' ? guidString(b) : sidString(b);
}

/** The domain part of a DN (its trailing DC= components): `ou=people,dc=example,dc=org` → `dc=example,dc=org`. */
function domainOf(dn: string): string | undefined {
  const m = /(?:^|,)\s*((?:dc=[^,]+\s*,\s*)*dc=[^,]+)\s*$/i.exec(dn);
  return m ? m[1] : undefined;
}
