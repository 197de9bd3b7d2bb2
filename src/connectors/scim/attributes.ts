/**
 * The `attributes=` parameter: only what the kind's mappings read. A mapping path's first name is the SCIM
 * attribute (`name.givenName` → `name`, `groups[*].value` → `groups`); a schema URN in brackets names an
 * extension attribute (`['urn:…:enterprise:2.0:User'].department` → `urn:…:enterprise:2.0:User:department`).
 * A path this cannot read asks for every attribute (no parameter) rather than for too few.
 */
import type { TaskMapping } from '../../model/resources.js';

const NAME = /^([A-Za-z_$][\w$-]*)/;
const URN = /^\[\s*(['"])(urn:[^'"]+)\1\s*\](?:\.([A-Za-z_$][\w$-]*)|\[\s*(['"])([^'"]+)\4\s*\])?/;

/** The SCIM attribute a mapping path reads, or undefined when the path is not one this can tell. */
export function scimAttribute(path: string): string | undefined {
  const p = path.trim();
  const urn = URN.exec(p);
  if (urn) {
    const sub = urn[3] ?? urn[5];
    return sub ? `${urn[2]}:${sub}` : urn[2];
  }
  return NAME.exec(p)?.[1];
}

/** The attributes to ask for: the mapped ones and `extra`; undefined (everything) when a path is unreadable. */
export function mappedAttributes(mapping: TaskMapping | undefined, extra: readonly string[]): string[] | undefined {
  if (!mapping) return undefined;
  const out = new Set<string>(['id', ...extra]);
  for (const a of mapping.attributes ?? []) {
    const name = scimAttribute(a.external);
    if (name === undefined) return undefined;
    out.add(name);
  }
  return [...out];
}

/** Whether the kind's mappings read this top-level attribute (`groups`, `members`). */
export function maps(mapping: TaskMapping | undefined, attribute: string): boolean {
  return (mapping?.attributes ?? []).some((a) => scimAttribute(a.external) === attribute);
}
