/**
 * Which SCIM resource an invocation is about: the mapping's unique attribute in `data`. When it maps `id` the
 * value is the id; otherwise the resource is looked up by `filter=<external> eq "<value>"` (a string escaped as
 * RFC 7644 writes it), and exactly one must match.
 */
import type { InvokeData } from '../../types.js';
import { scimString } from '../filter.js';
import { type MappingKind, requireMapping, uniqueKey } from './mapping.js';
import { ActivityFailure, type ActivityRun, record, text } from './run.js';

export const COLLECTION: Record<MappingKind, '/Users' | '/Groups'> = { identity: '/Users', access: '/Groups' };
const NOUN: Record<MappingKind, string> = { identity: 'user', access: 'group' };

/** The SCIM id of the resource `data` names. */
export async function resolveId(
  run: ActivityRun,
  kind: MappingKind,
  data: InvokeData,
  activity: string,
): Promise<string> {
  const key = uniqueKey(requireMapping(run.ctx.task, kind, activity), kind, data);
  if (key.external === 'id') return key.value;
  // `emails.0.value` filters as `emails.value`.
  const attribute = key.external.replace(/\.\d+(?=\.|$)|\[\d+\]/g, '');
  const filter = `${attribute} eq ${scimString(key.value)}`;
  const query = `?filter=${encodeURIComponent(filter)}&attributes=id&count=2`;
  const { body } = await run.request('GET', `${COLLECTION[kind]}${query}`);
  const found = Array.isArray(record(body).Resources) ? (record(body).Resources as unknown[]) : [];
  const ids = found.map((r) => text(record(r).id)).filter((id): id is string => id !== undefined);
  if (ids.length === 1) return ids[0];
  throw new ActivityFailure(
    ids.length === 0
      ? `no SCIM ${NOUN[kind]} has ${attribute} ${scimString(key.value)} (data.${key.local})`
      : `more than one SCIM ${NOUN[kind]} has ${attribute} ${scimString(key.value)} (data.${key.local})`,
    404,
  );
}
