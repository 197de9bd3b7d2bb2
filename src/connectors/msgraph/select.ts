/**
 * `$select` of exactly the mapped properties: a mapping path's first name is the Graph property
 * (`onPremisesExtensionAttributes.extensionAttribute1` and `onPremisesExtensionAttributes/extensionAttribute1`
 * select `onPremisesExtensionAttributes`, `businessPhones.0` selects `businessPhones`). Memberships are not
 * Graph properties here: the connector computes `memberOf` (and a group's `members`) from group members.
 */
import type { TaskMapping } from '../../model/resources.js';

const NAME = /^([A-Za-z_][\w-]*)/;
const BRACKET = /^\[\s*(['"])([^'"]+)\1\s*\]/;

/** The Graph property a mapping path reads, or undefined when the path does not start with a name. */
export function graphProperty(path: string): string | undefined {
  const p = path.trim();
  return NAME.exec(p)?.[1] ?? BRACKET.exec(p)?.[2];
}

/** Attributes the connector computes instead of selecting. */
export const COMPUTED = {
  identity: new Set(['memberOf']),
  access: new Set(['memberOf', 'members']),
} as const;

/** Whether the mapping reads this attribute. */
export function maps(mapping: TaskMapping | undefined, attribute: string): boolean {
  return (mapping?.attributes ?? []).some((a) => graphProperty(a.external) === attribute);
}

/** `id`, the mapped properties and `extra`, each once, without the computed ones. */
export function selectOf(
  mapping: TaskMapping | undefined,
  computed: ReadonlySet<string>,
  extra: readonly string[] = [],
): string[] {
  const out = new Set<string>(['id']);
  for (const a of mapping?.attributes ?? []) {
    const name = graphProperty(a.external);
    if (name && !computed.has(name)) out.add(name);
  }
  for (const e of extra) out.add(e);
  return [...out];
}
