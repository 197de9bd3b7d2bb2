/**
 * From a workflow's card attributes (`data`, local names) to an upstream object (external names), through one of
 * the task's mappings: what the SCIM and Graph activities share. A mapping path becomes a place in the object:
 *   `userName` → `{userName}`; `name.givenName` → `{name: {givenName}}`;
 *   `emails.0.value` (or `emails[0].value`) → `{emails: [{value}]}` (an index makes an array);
 *   `['urn:…:enterprise:2.0:User'].department` → `{"urn:…:enterprise:2.0:User": {department}}`.
 * Paths that only read (`[*]`, filters, and what the type names read-only: ids, memberships) are never written.
 * Attributes missing from `data` are left out; a `null` clears the attribute.
 */
import type { Task, TaskMapping } from '../../../model/resources.js';
import { InvalidInvocationError, type InvokeData } from '../../types.js';

export type Segment = string | number;
export type UpstreamObject = Record<string, unknown>;
export type MappingKind = 'identity' | 'access' | 'generic';

const TOKEN = /^(?:\[\s*(['"])(.+?)\1\s*\]|\[(\d+)\]|\.?([A-Za-z_$][\w$-]*)|\.(\d+))/;

/** The segments of a mapping path, or undefined for a path that cannot be written (`[*]`, filters). */
export function pathSegments(path: string): Segment[] | undefined {
  const out: Segment[] = [];
  let rest = path.trim();
  while (rest !== '') {
    const m = TOKEN.exec(rest);
    if (!m) return undefined;
    if (m[2] !== undefined) out.push(m[2]);
    else if (m[3] !== undefined) out.push(Number(m[3]));
    else if (m[4] !== undefined) out.push(m[4]);
    else out.push(Number(m[5]));
    rest = rest.slice(m[0].length);
  }
  return out.length > 0 && typeof out[0] === 'string' ? out : undefined;
}

/** Sets `value` at `segments` in `target`, creating objects and arrays on the way. */
export function setPath(target: UpstreamObject, segments: Segment[], value: unknown): void {
  let node: Record<string | number, unknown> = target;
  segments.forEach((seg, i) => {
    if (i === segments.length - 1) {
      node[seg] = value;
      return;
    }
    const next = segments[i + 1];
    const existing = node[seg];
    if (typeof existing !== 'object' || existing === null) node[seg] = typeof next === 'number' ? [] : {};
    node = node[seg] as Record<string | number, unknown>;
  });
}

export interface WrittenAttribute {
  local: string;
  external: string;
  segments: Segment[];
  value: unknown;
}

/** The mapped attributes `data` carries, with their places (paths starting with a `readOnly` name left out). */
export function writtenAttributes(
  mapping: TaskMapping,
  data: InvokeData,
  readOnly: ReadonlySet<string>,
): WrittenAttribute[] {
  const out: WrittenAttribute[] = [];
  for (const a of mapping.attributes ?? []) {
    if (!(a.local in data) || a.local === 'reference') continue;
    const segments = pathSegments(a.external);
    if (!segments || readOnly.has(String(segments[0]))) continue;
    out.push({ local: a.local, external: a.external, segments, value: data[a.local] });
  }
  return out;
}

/** The task's mapping of a kind; a task without it cannot run the activity (400). */
export function requireMapping(task: Task, kind: MappingKind, activity: string, system: string): TaskMapping {
  const mapping = task.spec.mappings?.[kind];
  if (!mapping || (mapping.attributes ?? []).length === 0) {
    throw new InvalidInvocationError(
      `${activity} needs the task's spec.mappings.${kind}, which maps the card's attributes to ${system} attributes`,
    );
  }
  return mapping;
}

export interface UniqueKey {
  local: string;
  external: string;
  value: string;
}

/** The mapping's unique attribute and its value in `data`: what identifies the object. */
export function uniqueKey(mapping: TaskMapping, kind: MappingKind, data: InvokeData, system: string): UniqueKey {
  const unique = (mapping.attributes ?? []).find((a) => a.unique);
  if (!unique) {
    throw new InvalidInvocationError(`spec.mappings.${kind} has no unique attribute to identify the ${system} object`);
  }
  const value = data[unique.local];
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new InvalidInvocationError(
      `data.${unique.local} is required: it is the unique attribute of spec.mappings.${kind} (${system} ${unique.external})`,
    );
  }
  return { local: unique.local, external: unique.external, value: String(value) };
}

/** Refuses input fields an activity does not take (400), naming them and what it takes. */
export function onlyInput(activity: string, input: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(input).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const takes = known.length === 0 ? 'reads only data' : `takes ${known.join(', ')}`;
  throw new InvalidInvocationError(
    `unknown input field(s) ${unknown.map((k) => `"${k}"`).join(', ')}: ${activity} ${takes}`,
  );
}
