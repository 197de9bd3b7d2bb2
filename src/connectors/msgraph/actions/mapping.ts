/**
 * From a workflow's card attributes (`data`, local names) to a Graph object (external names), through the
 * task's identity (users), access (groups) or generic (custom objects) mapping; the path rules are the kit's
 * (kit/activity/mapping.ts): `onPremisesExtensionAttributes.extensionAttribute1` writes a nested property.
 * What is Graph's own: the properties that are never written (the object id, navigation properties such as
 * memberships, manager and photo, which have activities or requests of their own; read-only timestamps), the
 * photo attribute, and the properties a create needs.
 */
import type { Task, TaskMapping } from '../../../model/resources.js';
import * as kit from '../../kit/activity/mapping.js';
import { InvalidInvocationError, type InvokeData } from '../../types.js';

export type { MappingKind, UniqueKey, WrittenAttribute } from '../../kit/activity/mapping.js';
export type GraphBody = kit.UpstreamObject;

const READ_ONLY = new Set([
  'id',
  'memberOf',
  'transitiveMemberOf',
  'members',
  'transitiveMembers',
  'owners',
  'manager',
  'photo',
  'thumbnailPhoto',
  'createdDateTime',
  'deletedDateTime',
  'lastPasswordChangeDateTime',
  'passwordProfile',
]);

/** Mapping paths that hold a user's photo: its bytes go to /users/{id}/photo/$value, not into the PATCH. */
export const PHOTO_PATHS = new Set(['photo', 'thumbnailPhoto', 'photo/$value']);

/** What `create` needs mapped, per kind (the seeds hide the node when one is missing). */
export const CREATE_NEEDS: Readonly<Record<'identity' | 'access', readonly string[]>> = {
  identity: ['displayName', 'mailNickname', 'userPrincipalName'],
  access: ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled'],
};

export const requireMapping = (task: Task, kind: kit.MappingKind, activity: string): TaskMapping =>
  kit.requireMapping(task, kind, activity, 'Graph');

export const uniqueKey = (mapping: TaskMapping, kind: kit.MappingKind, data: InvokeData): kit.UniqueKey =>
  kit.uniqueKey(mapping, kind, data, 'Graph');

/** The mapped properties `data` carries, with their Graph places (never-written properties left out). */
export const writtenProperties = (mapping: TaskMapping, data: InvokeData): kit.WrittenAttribute[] =>
  kit.writtenAttributes(mapping, data, READ_ONLY);

/** The Graph body the properties describe; `null` values are sent as null (Graph clears the property). */
export function graphBody(properties: kit.WrittenAttribute[]): GraphBody {
  const body: GraphBody = {};
  for (const p of properties) kit.setPath(body, p.segments, p.value);
  return body;
}

/**
 * A create's body: every property `needs` names must be mapped and present in `data` (400 naming the mapping
 * or the data attribute otherwise).
 */
export function createBody(
  mapping: TaskMapping,
  kind: 'identity' | 'access',
  activity: string,
  data: InvokeData,
): GraphBody {
  const properties = writtenProperties(mapping, data);
  for (const need of CREATE_NEEDS[kind]) {
    if (properties.some((p) => p.external === need && p.value !== null && p.value !== '')) continue;
    const local = mapping.attributes?.find((a) => a.external === need)?.local;
    throw new InvalidInvocationError(
      local
        ? `data.${local} is required: ${activity} sends it as the Graph ${need}`
        : `${activity} needs a mapping of the Graph ${need} in spec.mappings.${kind}`,
    );
  }
  return graphBody(properties);
}

/** The mappings an activity of `kind` needs that `mapping` lacks: for validation warnings. */
export function missingForCreate(mapping: TaskMapping | undefined, kind: 'identity' | 'access'): string[] {
  const mapped = new Set((mapping?.attributes ?? []).map((a) => a.external));
  return CREATE_NEEDS[kind].filter((n) => !mapped.has(n));
}

export { onlyInput } from '../../kit/activity/mapping.js';

/** Navigation properties and write-only ones: a GET of the object cannot $select them. */
const NOT_SELECTABLE = new Set([
  'memberOf',
  'transitiveMemberOf',
  'members',
  'transitiveMembers',
  'owners',
  'manager',
  'passwordProfile',
]);

interface ReadAttribute {
  local: string;
  segments: kit.Segment[];
}

/** The mapped attributes a GET of the object can answer, with their places in it (photos and links left out). */
function readAttributes(mapping: TaskMapping): ReadAttribute[] {
  const out: ReadAttribute[] = [];
  for (const a of mapping.attributes ?? []) {
    if (a.local === 'reference' || PHOTO_PATHS.has(a.external)) continue;
    const segments = kit.pathSegments(a.external);
    if (!segments || NOT_SELECTABLE.has(String(segments[0]))) continue;
    out.push({ local: a.local, segments });
  }
  return out;
}

/** The top-level Graph properties a read of the mapped attributes selects (`id` always). */
export function selectedProperties(mapping: TaskMapping): string[] {
  const props = new Set(['id']);
  for (const a of readAttributes(mapping)) props.add(String(a.segments[0]));
  return [...props];
}

/** A Graph object as the card's attributes (local names); a property Graph did not answer is left out. */
export function localAttributes(mapping: TaskMapping, object: GraphBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of readAttributes(mapping)) {
    let node: unknown = object;
    for (const seg of a.segments) {
      node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[seg] : undefined;
    }
    if (node !== undefined) out[a.local] = node;
  }
  return out;
}
