/**
 * Typed decoding for the built-in types, and the factory that turns a short spec into a ResourceType: what
 * encoding/json into a Go struct does to a request body (unknown fields dropped, nulls dropped, a wrong JSON type
 * answered 400 `<Kind> in version "v1" cannot be handled as a <Kind>: ...`), plus metav1.Time / MicroTime and
 * base64 []byte fields parsed as the real server parses them.
 */
import { isObject, type KubeObject, type Obj } from './json.js';
import { type NameRule, normalizeTime, parseMicroTime, pruneMeta } from './meta.js';
import { ALL_VERBS, type ResourceType } from './resources.js';
import { errors, type FieldError } from './status.js';

/** A typed field: a JSON type the Go struct field decodes from, or a nested struct / list / map. */
export type Shape =
  | 'string'
  | 'int32'
  | 'int64'
  | 'bool'
  | 'time'
  | 'microtime'
  | 'bytes'
  | 'any'
  | { struct: Record<string, Shape> }
  | { list: Shape }
  | { map: Shape };

export const struct = (fields: Record<string, Shape>): Shape => ({ struct: fields });

export const OBJECT_REFERENCE = struct({
  kind: 'string',
  namespace: 'string',
  name: 'string',
  uid: 'string',
  apiVersion: 'string',
  resourceVersion: 'string',
  fieldPath: 'string',
});

const jsonKind = (v: unknown): string =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v;

/** Go's base64.StdEncoding.DecodeString check: the index of the first bad byte, or -1. */
function base64Error(s: string): number {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = s.indexOf('=');
  if (pad >= 0 && (!/^=*$/.test(s.slice(pad)) || s.length % 4 !== 0 || s.length - pad > 2)) return pad;
  if (s.length % 4 !== 0) return s.length - (s.length % 4);
  return -1;
}

/**
 * Decodes `value` against a shape in place, the way encoding/json into a Go struct would: unknown fields and
 * nulls are dropped (unknown paths collected), a wrong JSON type is a 400 naming the kind.
 */
function decodeTyped(kind: string, value: Obj, fields: Record<string, Shape>, path: string, unknown: string[]): void {
  const fail = (detail: string): never => {
    throw errors.badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${detail}`);
  };
  const decode = (v: unknown, shape: Shape, p: string): unknown => {
    if (v === null) return undefined;
    const got = jsonKind(v);
    const typeError = (goType: string): never =>
      fail(
        `json: cannot unmarshal ${got === 'object' ? 'object' : got} into Go struct field ${kind}.${p} of type ${goType}`,
      );
    if (typeof shape === 'string') {
      switch (shape) {
        case 'string':
          return typeof v === 'string' ? v : typeError('string');
        case 'bool':
          return typeof v === 'boolean' ? v : typeError('bool');
        case 'int32':
        case 'int64':
          return typeof v === 'number' && Number.isInteger(v) ? v : typeError(shape);
        case 'time': {
          if (typeof v !== 'string') return typeError('string');
          const t = normalizeTime(v);
          if (t === undefined) {
            return fail(
              `parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(v)} as "2006"`,
            );
          }
          return t;
        }
        case 'microtime': {
          if (typeof v !== 'string') return typeError('string');
          const t = parseMicroTime(v);
          return 'error' in t ? fail(t.error) : t.value;
        }
        case 'bytes': {
          if (typeof v !== 'string') return typeError('[]uint8');
          const at = base64Error(v);
          if (at >= 0) fail(`illegal base64 data at input byte ${at}`);
          return v;
        }
        default:
          return v;
      }
    }
    if ('struct' in shape) {
      if (!isObject(v)) return typeError('struct');
      decodeTyped(kind, v, shape.struct, p, unknown);
      return v;
    }
    if ('list' in shape) {
      if (!Array.isArray(v)) return typeError('[]');
      return v.map((x, i) => decode(x, shape.list, `${p}[${i}]`)).filter((x) => x !== undefined);
    }
    if (!isObject(v)) return typeError('map');
    for (const k of Object.keys(v)) {
      const d = decode(v[k], shape.map, `${p}[${k}]`);
      if (d === undefined) delete v[k];
      else v[k] = d;
    }
    return v;
  };
  for (const key of Object.keys(value)) {
    const p = path ? `${path}.${key}` : key;
    if (path === '' && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    const shape = fields[key];
    if (!shape) {
      unknown.push(p);
      delete value[key];
      continue;
    }
    const d = decode(value[key], shape, p);
    if (d === undefined) delete value[key];
    else value[key] = d;
  }
}

export interface BuiltinSpec {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  storage?: string;
  fields: Record<string, Shape>;
  allowCreateOnUpdate?: boolean;
  nameRule?: NameRule;
  fieldLabels?: ResourceType['fieldLabels'];
  verbs?: string[];
  normalize?: (o: KubeObject) => void;
  prepareForCreate?: (o: KubeObject) => void;
  prepareForUpdate?: (o: KubeObject, old: KubeObject) => void;
  validate?: (o: KubeObject, old?: KubeObject) => FieldError[];
  toStorage?: (o: KubeObject) => KubeObject;
  fromStorage?: (o: KubeObject) => KubeObject;
}

export function builtin(spec: BuiltinSpec): ResourceType {
  return {
    group: spec.group,
    version: spec.version,
    apiVersion: spec.group ? `${spec.group}/${spec.version}` : spec.version,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    namespaced: spec.namespaced,
    shortNames: spec.shortNames ?? [],
    categories: [],
    verbs: spec.verbs ?? ALL_VERBS,
    storage: spec.storage ?? `${spec.group || 'core'}/${spec.plural}`,
    statusSubresource: false,
    generation: false,
    custom: false,
    allowCreateOnUpdate: spec.allowCreateOnUpdate ?? false,
    allowUnconditionalUpdate: true,
    strategicMerge: true,
    nameRule: spec.nameRule ?? 'subdomain',
    fieldLabels: spec.fieldLabels ?? {},
    normalize(o) {
      const unknown = isObject(o.metadata) ? pruneMeta(o.metadata) : [];
      decodeTyped(spec.kind, o, spec.fields, '', unknown);
      spec.normalize?.(o);
      return unknown;
    },
    prepareForCreate: spec.prepareForCreate ?? (() => {}),
    prepareForUpdate: spec.prepareForUpdate ?? (() => {}),
    validate: spec.validate ?? (() => []),
    toStorage: spec.toStorage ?? ((o) => o),
    fromStorage: spec.fromStorage ?? ((o) => o),
  };
}
