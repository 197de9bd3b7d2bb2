/**
 * Which attributes are single-valued, from the server's subschema (RFC 4512 attributeTypes, `SINGLE-VALUE`),
 * so that a multi-valued attribute is a list even when an entry has one value, and a single-valued one is a
 * plain value. A server that does not show its schema gets lists only where an entry has several values.
 */
import type { Client } from 'ldapts';

export interface AttributeShapes {
  /** Whether the attribute is multi-valued; undefined when the schema was not readable. */
  multi(name: string): boolean | undefined;
}

export async function readShapes(client: Client): Promise<AttributeShapes> {
  const single = new Set<string>();
  const known = new Set<string>();
  try {
    const root = await client.search('', {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['subschemaSubentry'],
    });
    const base = String(root.searchEntries[0]?.subschemaSubentry ?? 'cn=Subschema');
    const { searchEntries } = await client.search(base, {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['attributeTypes'],
    });
    const types = searchEntries[0]?.attributeTypes ?? [];
    for (const def of Array.isArray(types) ? types : [types]) {
      const text = String(def);
      const names = namesOf(text);
      for (const n of names) {
        known.add(n);
        if (/\bSINGLE-VALUE\b/.test(text)) single.add(n);
      }
    }
  } catch {
    // No readable schema: fall back to the values' count.
  }
  return {
    multi(name) {
      const n = name.toLowerCase();
      return known.has(n) ? !single.has(n) : undefined;
    },
  };
}

function namesOf(def: string): string[] {
  const m = /\bNAME\s+(\(\s*([^)]*)\)|'([^']*)')/.exec(def);
  if (!m) return [];
  const raw = m[3] !== undefined ? [m[3]] : [...(m[2] ?? '').matchAll(/'([^']*)'/g)].map((x) => x[1]);
  return raw.map((n) => n.toLowerCase());
}
