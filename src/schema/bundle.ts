/**
 * Bundles the JSON Schema files of `schemas/` into one self-contained schema per resource kind.
 *
 * Every cross-file `$ref` is rewritten to an internal `#/definitions/<Name>` so that Ajv, the
 * TypeScript generator and the CRD generator all read the same document and none of them ever tries
 * to fetch a schema `$id` over the network.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export type JsonSchema = { [key: string]: unknown };

/** Resolves relative $refs between the files' relative $ids without any network URL. */
const ID_BASE = 'file:///schemas/';

interface LoadedFile {
  id: string;
  /** Prefix for definition names taken from this file, such as Rest for connectors/rest.json. */
  prefix: string;
  schema: JsonSchema;
}

const pascal = (s: string): string =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');

function listJson(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listJson(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : [],
    )
    .sort();
}

export function loadSchemaFiles(dir: string): LoadedFile[] {
  return listJson(dir).map((file) => {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
    const id = schema.$id;
    if (typeof id !== 'string') throw new Error(`${relative(dir, file)}: schema has no $id`);
    const base = relative(dir, file)
      .replace(/\\/g, '/')
      .replace(/\.json$/, '');
    // common.json contributes plain names (SecretRef); others are prefixed (RestAuth, TaskSpec).
    const prefix = base === 'common' ? '' : pascal(base.split('/').pop() ?? base);
    return { id, prefix, schema };
  });
}

/** Name of the bundled definition a ref target gets. */
function definitionName(file: LoadedFile, fragment: string): string {
  if (fragment === '' || fragment === '/') return file.prefix;
  const m = /^\/definitions\/([^/]+)$/.exec(fragment);
  if (!m) throw new Error(`${file.id}#${fragment}: only refs to a file or to one of its definitions are supported`);
  return file.prefix + pascal(m[1]);
}

/**
 * Returns a schema for `rootId` whose definitions hold every schema it reaches, under stable
 * PascalCase names, with all refs internal.
 */
export function bundleSchema(files: LoadedFile[], rootId: string): JsonSchema {
  const byId = new Map(files.map((f) => [f.id, f]));
  const definitions: Record<string, JsonSchema> = {};
  const pending: Array<{ file: LoadedFile; fragment: string; name: string }> = [];

  const lookup = (file: LoadedFile, fragment: string): JsonSchema => {
    if (fragment === '') return file.schema;
    const name = fragment.split('/').pop() as string;
    const defs = file.schema.definitions as Record<string, JsonSchema> | undefined;
    const found = defs?.[name];
    if (!found) throw new Error(`${file.id}#${fragment}: no such definition`);
    return found;
  };

  const rewrite = (node: unknown, file: LoadedFile): unknown => {
    if (Array.isArray(node)) return node.map((n) => rewrite(n, file));
    if (!node || typeof node !== 'object') return node;
    const out: JsonSchema = {};
    for (const [k, v] of Object.entries(node as JsonSchema)) {
      if (k === '$ref' && typeof v === 'string') {
        // $ids are paths relative to schemas/ (connectors/rest.json): no URL that would have to serve them.
        const url = new URL(v, `${ID_BASE}${file.id}`);
        const targetId = url.pathname.slice(ID_BASE.length - 'file://'.length);
        const target = byId.get(targetId);
        if (!target || url.protocol !== 'file:') {
          throw new Error(`${file.id}: $ref ${v} points to an unknown schema ${targetId}`);
        }
        const fragment = decodeURIComponent(url.hash.replace(/^#/, ''));
        const name = definitionName(target, fragment);
        if (!(name in definitions)) {
          definitions[name] = {}; // reserve, so cycles terminate
          pending.push({ file: target, fragment, name });
        }
        out.$ref = `#/definitions/${name}`;
      } else if (k === 'definitions' || k === '$id' || k === '$schema') {
        // Definitions are pulled in only when referenced; ids would make tools fetch.
      } else if (k === 'properties' || k === 'patternProperties') {
        out[k] = Object.fromEntries(Object.entries(v as JsonSchema).map(([p, s]) => [p, rewrite(s, file)]));
      } else {
        out[k] = rewrite(v, file);
      }
    }
    return out;
  };

  const root = byId.get(rootId);
  if (!root) throw new Error(`unknown schema ${rootId}`);
  const bundled = rewrite(root.schema, root) as JsonSchema;
  while (pending.length > 0) {
    const { file, fragment, name } = pending.shift() as (typeof pending)[number];
    // The title names the generated TypeScript type; definition names are stable, file titles are prose.
    definitions[name] = { ...(rewrite(lookup(file, fragment), file) as JsonSchema), title: name };
  }
  const sorted = Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b)));
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...bundled, definitions: sorted };
}
