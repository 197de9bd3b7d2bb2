/**
 * An LDAP entry as a record: exactly the attributes the mapping names (its first path segment), spelled as the
 * mapping spells them, plus `dn` / `distinguishedName` from the entry's DN and `accountDisabled` from
 * userAccountControl.
 */
import type { Entry } from 'ldapts';
import type { TaskMapping } from '../../model/resources.js';
import type { AttributeShapes } from './schema.js';
import { accountDisabled, convert, convertKnown, DERIVED } from './values.js';

const DN_NAMES = new Set(['dn', 'distinguishedname']);

/** The attribute a mapping path reads: `mail` of `mail`, `memberOf` of `memberOf.0`. */
export const attributeOf = (external: string): string => external.split(/[.[]/)[0];

/** Names the record has (as the mapping writes them) and the attributes to ask the server for. */
export interface Wanted {
  names: string[];
  request: string[];
}

export function wanted(mapping: TaskMapping | undefined, extra: readonly string[]): Wanted {
  const names = [...new Set([...(mapping?.attributes ?? []).map((a) => attributeOf(a.external)), ...extra])];
  const request = new Set<string>();
  for (const n of names) {
    const lower = n.toLowerCase();
    if (lower === 'dn') continue;
    request.add(DERIVED[lower] ?? n);
  }
  return { names, request: request.size > 0 ? [...request] : ['1.1'] };
}

export function toRecord(entry: Entry, names: readonly string[], shapes: AttributeShapes): Record<string, unknown> {
  const byLower = new Map<string, string>();
  for (const k of Object.keys(entry)) byLower.set(k.toLowerCase(), k);
  const data: Record<string, unknown> = {};
  for (const name of names) {
    const lower = name.toLowerCase();
    const present =
      byLower.has(lower) &&
      !(
        Array.isArray(entry[byLower.get(lower) as string]) &&
        (entry[byLower.get(lower) as string] as unknown[]).length === 0
      );
    // OpenLDAP has no distinguishedName attribute: the entry's DN is the same value.
    if (lower === 'dn' || (lower === 'distinguishedname' && !present)) {
      data[name] = entry.dn;
      continue;
    }
    if (lower === 'accountdisabled') {
      const uac = byLower.get('useraccountcontrol');
      const v = uac ? accountDisabled(entry[uac]) : undefined;
      if (v !== undefined) data[name] = v;
      continue;
    }
    const key = byLower.get(lower);
    if (key === undefined) continue;
    const raw = entry[key];
    if (Array.isArray(raw) && raw.length === 0) continue;
    data[name] = convert(name, raw, shapes);
  }
  return data;
}

/** DNs compared as the server does for the common cases: case and spaces around separators do not matter. */
export function normalDn(dn: string): string {
  return dn
    .trim()
    .replace(/\s*([,=+])\s*/g, '$1')
    .toLowerCase();
}

export const isDnName = (n: string): boolean => DN_NAMES.has(n.toLowerCase());

/**
 * toRecord for many entries of one read: the attribute names of a page repeat, so the mapping of each entry key
 * to the record's name is worked out once per key, not once per entry.
 */
export function projector(
  names: readonly string[],
  shapes: AttributeShapes,
): (entry: Entry) => Record<string, unknown> {
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const special = names.some((n) => /^(dn|distinguishedname|accountdisabled)$/i.test(n));
  const nameOf = new Map<string, string | null>();
  const multi = new Map<string, boolean | undefined>();
  return (entry) => {
    if (special) return toRecord(entry, names, shapes);
    const data: Record<string, unknown> = {};
    for (const key in entry) {
      if (key === 'dn') continue;
      let name = nameOf.get(key);
      if (name === undefined) {
        name = byLower.get(key.toLowerCase()) ?? null;
        nameOf.set(key, name);
        multi.set(key, shapes.multi(name ?? key));
      }
      if (name === null) continue;
      const raw = entry[key];
      if (Array.isArray(raw) && raw.length === 0) continue;
      data[name] = convertKnown(name, raw, multi.get(key));
    }
    return data;
  };
}
