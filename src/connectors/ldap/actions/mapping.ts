/**
 * What an invocation's `data` (card attributes by local name) means in LDAP: the DN from the mapping of `dn` or
 * `distinguishedName` (the seeds require it in both mappings), and the attributes to write from the other mapped
 * attributes present in `data`. Server-kept attributes (entryUUID, objectGUID, memberOf, ...) are never written.
 */

import type { TaskMapping } from '../../../model/resources.js';
import { type ActionContext, InvalidInvocationError, type InvokeData } from '../../types.js';
import { attributeOf, isDnName } from '../records.js';

export type Kind = 'identity' | 'access';

/** Kept by the server or derived: never sent in an add or modify. */
const READ_ONLY = new Set([
  'entryuuid',
  'objectguid',
  'objectsid',
  'memberof',
  'accountdisabled',
  'usnchanged',
  'usncreated',
  'whenchanged',
  'whencreated',
  'modifytimestamp',
  'createtimestamp',
  'entrycsn',
]);
const PHOTOS = new Set(['thumbnailphoto', 'jpegphoto']);
/** AD's limit for thumbnailPhoto. */
export const THUMBNAIL_MAX_BYTES = 100 * 1024;

export function requireMapping(ctx: ActionContext, kind: Kind, activity: string): TaskMapping {
  const m = ctx.task.spec.mappings?.[kind];
  if (!m)
    throw new InvalidInvocationError(`${activity} needs spec.mappings.${kind} on task "${ctx.task.metadata.name}"`);
  return m;
}

/** The DN that `data` names through the mapping's dn attribute. */
export function dnFrom(mapping: TaskMapping, kind: Kind, data: InvokeData, activity: string): string {
  const a = mapping.attributes.find((x) => isDnName(attributeOf(x.external)));
  if (!a) {
    throw new InvalidInvocationError(
      `${activity} needs a mapping of dn (or distinguishedName) in spec.mappings.${kind}`,
    );
  }
  const v = data[a.local];
  if (typeof v !== 'string' || v.trim() === '')
    throw new InvalidInvocationError(`data.${a.local} (the DN) is required by ${activity}`);
  return v;
}

export type Written = { attribute: string; values: Array<string | Buffer> | null };

/** The mapped, writable attributes present in `data`; null (or an empty list) clears one. */
export function writtenAttributes(mapping: TaskMapping, data: InvokeData): Written[] {
  const out: Written[] = [];
  for (const a of mapping.attributes) {
    const attribute = attributeOf(a.external);
    const lower = attribute.toLowerCase();
    if (isDnName(attribute) || READ_ONLY.has(lower) || !(a.local in data) || a.references) continue;
    const raw = data[a.local];
    const list = raw === null || raw === undefined || raw === '' ? [] : Array.isArray(raw) ? raw : [raw];
    const values = list.map((v) => (PHOTOS.has(lower) ? photo(attribute, a.local, v) : String(v)));
    out.push({ attribute, values: values.length > 0 ? values : null });
  }
  return out;
}

function photo(attribute: string, local: string, v: unknown): Buffer {
  const b = Buffer.from(String(v), 'base64');
  if (attribute.toLowerCase() === 'thumbnailphoto' && b.length > THUMBNAIL_MAX_BYTES) {
    throw new InvalidInvocationError(
      `data.${local} is ${Math.ceil(b.length / 1024)} kB: thumbnailPhoto takes at most 100 kB`,
    );
  }
  return b;
}

/** `cn=Doe\, John` of `cn=Doe\, John,ou=people,...`: the RDN's attribute and value, for the entry itself. */
export function rdnOf(dn: string): { attribute: string; value: string } | undefined {
  const m = /^\s*([^=]+)=((?:\\.|[^,+\\])*)/.exec(dn);
  if (!m) return undefined;
  const value = m[2]
    .replace(/\\([0-9a-fA-F]{2})/g, (_x, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/\\(.)/g, '$1');
  return { attribute: m[1].trim(), value };
}

/** A list input field of DNs (`input.groups`), checked. */
export function dnList(input: Record<string, unknown>, field: string, activity: string): string[] {
  const v = input[field];
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;
  if (!list || list.length === 0 || !list.every((x) => typeof x === 'string' && x.includes('='))) {
    throw new InvalidInvocationError(`${activity} needs input.${field}: a DN or a list of DNs`);
  }
  return list as string[];
}

/** `input.attributes`: extra attributes of a new entry ({name: value | [values]}), beside the mapped ones. */
export function extraAttributes(input: Record<string, unknown>, activity: string): Record<string, string[]> {
  const v = input.attributes;
  if (v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new InvalidInvocationError(`${activity}: input.attributes must be an object of attribute names and values`);
  }
  const out: Record<string, string[]> = {};
  for (const [k, x] of Object.entries(v)) {
    const list = Array.isArray(x) ? x : [x];
    if (!list.every((y) => ['string', 'number', 'boolean'].includes(typeof y))) {
      throw new InvalidInvocationError(`${activity}: input.attributes.${k} must be a value or a list of values`);
    }
    out[k] = list.map(String);
  }
  return out;
}
