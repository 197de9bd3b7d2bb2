/**
 * Mapping paths (DESIGN §2): JSONPath written without the leading `$.`.
 *
 *   id                      first-level attribute
 *   name['first-name']      bracket notation for names with special characters
 *   emails.0.value          `.0.` is a table index (also emails[0].value)
 *   /users/{id}/groups.0.name   a subquery's results, prefixed by the subquery template
 *   phones[?(@.type=='work')].number   full JSONPath, evaluated by jsonpath-plus
 *
 * Simple paths are compiled to a plain property walk, because the engine evaluates them for every
 * attribute of every record; only paths that use JSONPath operators go through jsonpath-plus.
 */
import { JSONPath } from 'jsonpath-plus';

export class PathError extends Error {}

export interface ParsedPath {
  /** The path as written. */
  source: string;
  /** Property names and indexes to walk; the first may be a subquery template. */
  segments: Array<string | number>;
  /** The subquery template the path reads from, when it starts with one. */
  subquery?: string;
  /** Set when the path uses JSONPath operators (filters, wildcards, recursive descent). */
  jsonPath?: string;
}

const ADVANCED = /\[\s*\?|\[\s*\*\s*\]|\.\*|\.\.|^\*|\[\s*-?\d*\s*:/;

/** Splits `a.b['c d'][0].e` into segments; throws PathError on malformed input. */
function splitSegments(path: string, source: string): Array<string | number> {
  const segments: Array<string | number> = [];
  let i = 0;
  let expectName = true;
  while (i < path.length) {
    const ch = path[i];
    if (ch === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw new PathError(`"${source}": unclosed [ at position ${i + 1}`);
      const inner = path.slice(i + 1, close).trim();
      const quoted = /^'(.*)'$|^"(.*)"$/.exec(inner);
      if (quoted) segments.push(quoted[1] ?? quoted[2]);
      else if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else
        throw new PathError(
          `"${source}": [${inner}] must be a quoted name such as ['first-name'] or an index such as [0]`,
        );
      i = close + 1;
      expectName = false;
      if (i < path.length && path[i] !== '.' && path[i] !== '[') {
        throw new PathError(`"${source}": expected . or [ after ] at position ${i + 1}`);
      }
      if (path[i] === '.') {
        i++;
        expectName = true;
        if (i >= path.length) throw new PathError(`"${source}": path ends with a dot`);
      }
      continue;
    }
    if (!expectName) throw new PathError(`"${source}": unexpected "${ch}" at position ${i + 1}`);
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    const name = path.slice(i, j);
    if (name === '') throw new PathError(`"${source}": empty name at position ${i + 1} (two dots, or a dot before [?)`);
    if (/[\]'"\s]/.test(name)) {
      throw new PathError(
        `"${source}": "${name}" has characters that need bracket notation, such as ['${name.trim()}']`,
      );
    }
    segments.push(/^\d+$/.test(name) ? Number(name) : name);
    i = j;
    if (path[i] === '.') {
      i++;
      if (i >= path.length) throw new PathError(`"${source}": path ends with a dot`);
    }
  }
  if (segments.length === 0) throw new PathError(`"${source}": path is empty`);
  return segments;
}

/**
 * Parses a mapping path. `subqueries` are the task's subquery templates; a path that starts with `/`
 * must start with one of them.
 */
export function parsePath(source: string, subqueries: readonly string[] = []): ParsedPath {
  const path = source.trim();
  if (path === '') throw new PathError('path is empty');
  if (path.startsWith('$')) {
    throw new PathError(
      `"${source}": write mapping paths without $. (for example ${path.replace(/^\$\.?/, '') || 'id'})`,
    );
  }
  let subquery: string | undefined;
  let rest = path;
  if (path.startsWith('/')) {
    // Longest match first: /users/{id}/groups must not be taken for /users/{id}.
    subquery = [...subqueries]
      .sort((a, b) => b.length - a.length)
      .find((s) => path === s || path.startsWith(`${s}.`) || path.startsWith(`${s}[`));
    if (!subquery) {
      const known = subqueries.length > 0 ? ` (subqueries: ${subqueries.join(', ')})` : ' (the task has no subqueries)';
      throw new PathError(`"${source}": starts with / but names no subquery of this task${known}`);
    }
    rest = path.slice(subquery.length).replace(/^\./, '');
  }
  if (ADVANCED.test(rest)) {
    const jsonPath = rest === '' ? '$' : `$${rest.startsWith('[') ? '' : '.'}${rest}`;
    try {
      JSONPath({ path: jsonPath, json: {}, wrap: true, eval: 'safe' });
    } catch (e) {
      throw new PathError(`"${source}": invalid JSONPath: ${(e as Error).message}`);
    }
    return { source, segments: subquery ? [subquery] : [], subquery, jsonPath };
  }
  const segments = rest === '' ? [] : splitSegments(rest, source);
  return { source, segments: subquery ? [subquery, ...segments] : segments, subquery };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Walks the segments; a number indexes an array (or is a key of an object, as JSON allows). */
export function walk(value: unknown, segments: ReadonlyArray<string | number>): unknown {
  let cur = value;
  for (const seg of segments) {
    if (Array.isArray(cur)) cur = typeof seg === 'number' ? cur[seg] : undefined;
    else if (isObject(cur)) cur = cur[String(seg)];
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

export type Accessor = (record: unknown) => unknown;

/** Compiles a parsed path into a function that reads it from a record. */
export function compilePath(parsed: ParsedPath): Accessor {
  const { segments, jsonPath } = parsed;
  if (!jsonPath) {
    if (segments.length === 1) {
      const key = segments[0];
      return (r) => (isObject(r) && !Array.isArray(r) ? r[String(key)] : walk(r, segments));
    }
    return (r) => walk(r, segments);
  }
  return (r) => {
    const base = walk(r, segments);
    if (base === undefined) return undefined;
    const found = JSONPath({ path: jsonPath, json: base as object, wrap: true, eval: 'safe' }) as unknown[];
    if (found.length === 0) return undefined;
    return found.length === 1 ? found[0] : found;
  };
}

/** Reads a dotted path such as data.items or links.next (value markers, token paths). */
export function readPath(value: unknown, path: string): unknown {
  return compilePath(parsePath(path))(value);
}
