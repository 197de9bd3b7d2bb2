/**
 * JSON value helpers shared by the fake API server's modules: the objects it stores are plain JSON, compared
 * semantically (as apimachinery's DeepEqual does on unstructured content) to detect no-op writes and spec changes.
 */

export type Obj = Record<string, unknown>;

/** An object as the API returns it: apiVersion, kind, metadata and the rest. */
export interface KubeObject extends Obj {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface ObjectMeta extends Obj {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Obj[];
}

export const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Everything but metadata: what a spec/status change is measured on (the CRD strategy's copyNonMetadata). */
export function withoutMetadata(o: Obj): Obj {
  const { metadata: _m, ...rest } = o;
  return rest;
}
