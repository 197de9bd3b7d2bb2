/**
 * The PATCH body formats, applied to the current object as kube-apiserver applies them: JSON merge patch
 * (RFC 7386), JSON patch (RFC 6902, as evanphx/json-patch v4 does, `test` included), and strategic merge patch
 * for built-in types (a merge patch that merges `metadata.finalizers` as a set and `metadata.ownerReferences` by
 * uid, honouring `$patch: replace|delete` and `$deleteFromPrimitiveList/finalizers`; other list merge keys are
 * not modelled, none of the built-ins served here has them). Server-side apply is not implemented.
 */
import { clone, deepEqual, isObject, type Obj } from './json.js';
import { ApiError, errors, failure } from './status.js';

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

export type PatchType = typeof MERGE_PATCH | typeof JSON_PATCH | typeof STRATEGIC_MERGE_PATCH | typeof APPLY_PATCH;

export const PATCH_TYPES: string[] = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];

/** The 422 the real server answers when a JSON patch does not apply (a failed `test`, a missing path, ...). */
const notApplied = (): ApiError =>
  new ApiError(failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {}));

function parse(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch (e) {
    throw errors.badRequest(`${what}: ${(e as Error).message}`);
  }
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

export function applyMergePatch(current: Obj, body: string): Obj {
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch {
    throw errors.badRequest('Invalid JSON Patch');
  }
  if (!isObject(patch)) throw errors.badRequest('Invalid JSON Patch');
  return mergePatch(current, patch) as Obj;
}

// --- RFC 6902 ------------------------------------------------------------------------------------------------------

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw notApplied();
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Container and last key of a path; throws when the container does not exist. */
function locate(doc: unknown, path: string): { parent: Obj | unknown[]; key: string } {
  const segs = pointer(path);
  if (segs.length === 0) throw notApplied();
  let cur: unknown = doc;
  for (const s of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(s, cur.length - 1)];
    else if (isObject(cur) && Object.hasOwn(cur, s)) cur = cur[s];
    else throw notApplied();
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw notApplied();
  return { parent: cur, key: segs[segs.length - 1] };
}

function arrayIndex(s: string, max: number): number {
  if (!/^-?\d+$/.test(s)) throw notApplied();
  let i = Number(s);
  if (i < 0) i = max + 1 + i; // negative indices, as kube's json-patch is configured to accept
  if (i < 0 || i > max) throw notApplied();
  return i;
}

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const s of pointer(path)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(s, cur.length - 1)];
    else if (isObject(cur) && Object.hasOwn(cur, s)) cur = cur[s];
    else return undefined;
  }
  return cur;
}

function add(doc: Obj, path: string, value: unknown): void {
  const { parent, key } = locate(doc, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : arrayIndex(key, parent.length);
    parent.splice(i, 0, clone(value));
  } else parent[key] = clone(value);
}

function remove(doc: Obj, path: string): unknown {
  const { parent, key } = locate(doc, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length - 1);
    return parent.splice(i, 1)[0];
  }
  if (!Object.hasOwn(parent, key)) throw notApplied();
  const old = parent[key];
  delete parent[key];
  return old;
}

export function applyJsonPatch(current: Obj, body: string): Obj {
  const ops = parse(body, 'json: cannot unmarshal patch');
  if (!Array.isArray(ops)) {
    throw errors.badRequest(`json: cannot unmarshal ${typeof ops} into Go value of type jsonpatch.Patch`);
  }
  const doc = clone(current);
  for (const raw of ops as Operation[]) {
    if (!isObject(raw) || typeof raw.path !== 'string') throw notApplied();
    switch (raw.op) {
      case 'add':
        add(doc, raw.path, raw.value);
        break;
      case 'remove':
        remove(doc, raw.path);
        break;
      case 'replace': {
        const { parent, key } = locate(doc, raw.path);
        if (Array.isArray(parent)) parent[arrayIndex(key, parent.length - 1)] = clone(raw.value);
        else {
          if (!Object.hasOwn(parent, key)) throw notApplied();
          parent[key] = clone(raw.value);
        }
        break;
      }
      case 'move': {
        if (typeof raw.from !== 'string') throw notApplied();
        const v = remove(doc, raw.from);
        add(doc, raw.path, v);
        break;
      }
      case 'copy': {
        if (typeof raw.from !== 'string') throw notApplied();
        const v = getAt(doc, raw.from);
        if (v === undefined) throw notApplied();
        add(doc, raw.path, v);
        break;
      }
      case 'test': {
        const v = getAt(doc, raw.path);
        // evanphx/json-patch v4: a missing value equals null.
        if (!deepEqual(v === undefined ? null : v, raw.value === undefined ? null : raw.value)) throw notApplied();
        break;
      }
      default:
        throw notApplied();
    }
  }
  return doc;
}

// --- strategic merge (built-ins) ------------------------------------------------------------------------------------

function strategicMerge(target: unknown, patch: unknown, path: string): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const result: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(result[field]) && Array.isArray(v)) {
        result[field] = (result[field] as unknown[]).filter((x) => !v.includes(x));
      }
      continue;
    }
    if (k.startsWith('$')) continue; // $setElementOrder, $retainKeys: ordering/retention directives, not modelled
    const p = path ? `${path}.${k}` : k;
    if (v === null) delete result[k];
    else if (p === 'metadata.finalizers' && Array.isArray(v) && Array.isArray(result[k])) {
      result[k] = [...new Set([...(result[k] as unknown[]), ...v])];
    } else if (p === 'metadata.ownerReferences' && Array.isArray(v) && Array.isArray(result[k])) {
      const merged = clone(result[k] as Obj[]);
      for (const ref of v as Obj[]) {
        const i = merged.findIndex((r) => r.uid === ref.uid);
        if (ref.$patch === 'delete') {
          if (i >= 0) merged.splice(i, 1);
        } else if (i >= 0) merged[i] = strategicMerge(merged[i], ref, p) as Obj;
        else merged.push(clone(ref));
      }
      result[k] = merged;
    } else {
      const merged = strategicMerge(result[k], v, p);
      if (merged === undefined) delete result[k];
      else result[k] = merged;
    }
  }
  return result;
}

export function applyStrategicMergePatch(current: Obj, body: string): Obj {
  const patch = parse(body, 'error decoding patch');
  if (!isObject(patch)) throw errors.badRequest('Invalid JSON Patch');
  return strategicMerge(current, patch, '') as Obj;
}
