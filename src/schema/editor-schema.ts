/**
 * JSON Schemas for editors (yaml-language-server, VS Code's YAML extension): one kind alone, or one schema for
 * files that hold Connectors and Tasks together, choosing the kind's schema by `kind` (if/then, draft-07). Only
 * standard keywords remain: the `x-` extensions (CEL rules, messages) are for `provisio validate` and the CRDs,
 * and no `$id` promises a URL, so an editor never tries to fetch one.
 */
import type { JsonSchema } from './bundle.js';

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** Drops `x-*` keywords (recursing only into schema positions, so a property named x-foo would stay). */
function standard(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(standard);
  if (!node || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node as JsonSchema)) {
    if (k.startsWith('x-') || k === '$id') continue;
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions') {
      out[k] = Object.fromEntries(Object.entries(v as JsonSchema).map(([p, s]) => [p, standard(s)]));
    } else if (typeof v === 'object') {
      out[k] = standard(v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** One kind's schema for editors. */
export function kindSchema(bundle: JsonSchema): JsonSchema {
  return { $schema: DRAFT_07, ...(standard(bundle) as JsonSchema) };
}

/**
 * Connectors and Tasks in one schema: `kind` picks the kind's schema, each kind's root becomes a definition of
 * its own, and the definitions both share (Metadata, SecretRef...) are one, since both come from the same files.
 */
export function resourcesSchema(bundles: Record<string, JsonSchema>): JsonSchema {
  const definitions: Record<string, unknown> = {};
  const branches: JsonSchema[] = [];
  for (const [kind, bundle] of Object.entries(bundles)) {
    const { definitions: defs, $schema: _, ...root } = kindSchema(bundle);
    for (const [name, def] of Object.entries((defs ?? {}) as Record<string, unknown>)) {
      if (name in definitions && JSON.stringify(definitions[name]) !== JSON.stringify(def)) {
        throw new Error(`definition ${name} differs between the kinds' schemas`);
      }
      definitions[name] = def;
    }
    if (kind in definitions) throw new Error(`definition ${kind} would hide the ${kind} root`);
    definitions[kind] = root;
    // JSON Schema's if/then: a plain schema object, never awaited.
    const branch: JsonSchema = {
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      // biome-ignore lint/suspicious/noThenProperty: the draft-07 keyword
      then: { $ref: `#/definitions/${kind}` },
    };
    branches.push(branch);
  }
  const kinds = Object.keys(bundles);
  return {
    $schema: DRAFT_07,
    title: 'Provisio resources',
    description: `A Provisio resource: ${kinds.join(' or ')} (apiVersion provisio.dev/v1alpha1), chosen by kind.`,
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { const: 'provisio.dev/v1alpha1', description: 'provisio.dev/v1alpha1.' },
      kind: { enum: kinds, description: `${kinds.join(' or ')}.` },
    },
    allOf: branches,
    definitions: Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b))),
  };
}
