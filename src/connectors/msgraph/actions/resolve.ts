/**
 * Which Graph object an invocation is about: the mapping's unique attribute in `data`. When it maps `id`, the
 * value is the object id (for users a userPrincipalName also names the user, as /users/{id | upn} accepts);
 * otherwise the object is looked up with `$filter=<property> eq '<value>'` (the value an OData string literal,
 * its quotes doubled; the advanced-query header and $count added when the property needs them), and exactly
 * one object must match.
 */
import { InvalidInvocationError, type InvokeData } from '../../types.js';
import { ADVANCED_HEADERS, advancedOperator, withQuery } from '../query.js';
import { type MappingKind, requireMapping, uniqueKey } from './mapping.js';
import { ActivityFailure, type GraphActivityRun, record, text } from './run.js';

/** An OData string literal: `'O''Brien'`. */
export const odataString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** A Graph property path as OData writes it: `onPremisesExtensionAttributes/extensionAttribute1`. */
export const odataPath = (external: string): string => external.replace(/\.(?=[A-Za-z_])/g, '/');

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const COLLECTION: Readonly<Record<'identity' | 'access', string>> = { identity: '/users', access: '/groups' };
const NOUN: Readonly<Record<MappingKind, string>> = { identity: 'user', access: 'group', generic: 'object' };

/** A collection path with one object: `/users/{id}`, the id encoded. */
export const objectPath = (collection: string, id: string): string => `${collection}/${encodeURIComponent(id)}`;

/** Objects of `collection` whose properties match, as `$filter` finds them: at most `top`. */
export async function findIds(
  run: GraphActivityRun,
  collection: string,
  filter: string,
  top: number,
): Promise<string[]> {
  const advanced = advancedOperator(filter) !== undefined;
  const params: Array<[string, string]> = [
    ['$filter', filter],
    ['$select', 'id'],
    ['$top', String(top)],
  ];
  if (advanced) params.push(['$count', 'true']);
  const url = withQuery(new URL(`https://graph${collection}`), params);
  const { body } = await run.request('GET', `${collection}${url.search}`, undefined, {
    headers: advanced ? { ...ADVANCED_HEADERS } : {},
  });
  const found = Array.isArray(record(body).value) ? (record(body).value as unknown[]) : [];
  return found.map((o) => text(record(o).id)).filter((id): id is string => id !== undefined);
}

/** The Graph id of the object `data` names in `collection`. */
export async function resolveId(
  run: GraphActivityRun,
  kind: MappingKind,
  data: InvokeData,
  activity: string,
  collection: string,
): Promise<string> {
  const key = uniqueKey(requireMapping(run.ctx.task, kind, activity), kind, data);
  if (key.external === 'id') {
    // `.` and `..` survive encodeURIComponent and would be resolved away by the URL: /users/.. is /v1.0/.
    if (/^\.{0,2}$/.test(key.value.trim())) {
      throw new InvalidInvocationError(`data.${key.local} "${key.value}" is not a Graph object id`);
    }
    return key.value;
  }
  const filter = `${odataPath(key.external)} eq ${odataString(key.value)}`;
  const ids = await findIds(run, collection, filter, 2);
  if (ids.length === 1) return ids[0];
  throw new ActivityFailure(
    `${ids.length === 0 ? 'no' : 'more than one'} Graph ${NOUN[kind]} in ${collection} has ${key.external} ${odataString(key.value)} (data.${key.local})`,
    404,
  );
}
