/**
 * What kube-apiserver does with a custom resource against its CRD's structural `openAPIV3Schema`, in the same
 * order: drop nulls of non-nullable fields, prune unknown fields (kept only under
 * `x-kubernetes-preserve-unknown-fields`), apply `default`s, validate (Ajv over the schema converted from OpenAPI
 * v3 to JSON Schema), and, when no "blocking" error was found, evaluate the `x-kubernetes-validations` CEL rules
 * (with @marcbachmann/cel-js; `oldSelf` transition rules and messageExpression are not evaluated). Errors come out
 * as apimachinery field errors with kube-openapi's messages (`spec.x in body should match '^...$'`).
 */
import { parse as parseCel } from '@marcbachmann/cel-js';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { clone, isObject, type Obj } from './json.js';
import { type FieldError, fieldErrors } from './status.js';

// ajv-formats is CommonJS; under NodeNext its default export may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  a: Ajv,
) => Ajv;

export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  nullable?: boolean;
  default?: unknown;
  enum?: unknown[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string; fieldPath?: string; reason?: string }[];
  [k: string]: unknown;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, logger: false });
addFormats(ajv);

const COPIED_KEYWORDS = [
  'type',
  'enum',
  'required',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'multipleOf',
  'format',
];

/** OpenAPI v3.0 structural schema → JSON Schema draft-07 for Ajv (nullable, int-or-string, boolean exclusives). */
function toJsonSchema(s: StructuralSchema): Obj {
  const out: Obj = {};
  for (const k of COPIED_KEYWORDS) if (s[k] !== undefined) out[k] = s[k];
  if (s.exclusiveMinimum === true && s.minimum !== undefined) {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  if (s.exclusiveMaximum === true && s.maximum !== undefined) {
    out.exclusiveMaximum = s.maximum;
    delete out.maximum;
  }
  if (s.properties) {
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toJsonSchema(v)]));
  }
  if (isObject(s.additionalProperties)) out.additionalProperties = toJsonSchema(s.additionalProperties);
  if (s.items) out.items = toJsonSchema(s.items);
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[k])) out[k] = (s[k] as StructuralSchema[]).map(toJsonSchema);
  }
  if (isObject(s.not)) out.not = toJsonSchema(s.not as StructuralSchema);
  if (s['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (s.nullable && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  }
  return out;
}

/** One served version's schema of one CRD. */
export class CrdSchema {
  private readonly validate: ValidateFunction;

  constructor(readonly schema: StructuralSchema) {
    const root = toJsonSchema(schema);
    // metadata is checked as ObjectMeta, not by the schema.
    if (isObject(root.properties)) delete (root.properties as Obj).metadata;
    this.validate = ajv.compile(root);
  }

  /**
   * Decoding: drops nulls and unknown fields (returned as paths like `spec.foo` for warnings or strict field
   * validation) and applies defaults, in place. apiVersion, kind and metadata at the root are left alone.
   */
  normalize(obj: Obj): string[] {
    const unknown: string[] = [];
    prune(obj, this.schema, '', unknown, true);
    applyDefaults(obj, this.schema, true);
    return unknown;
  }

  /** Schema validation, then the CEL rules when no blocking error was found. */
  check(obj: Obj): FieldError[] {
    const candidate = { ...obj };
    delete candidate.metadata;
    this.validate(candidate);
    const errs = (this.validate.errors ?? []).flatMap((e) => toFieldErrors(e, candidate, this.schema));
    const blocking = errs.some((e) =>
      [
        'FieldValueNotSupported',
        'FieldValueRequired',
        'FieldValueTooLong',
        'FieldValueTooMany',
        'FieldValueTypeInvalid',
      ].includes(e.type),
    );
    if (blocking) {
      errs.push(
        fieldErrors.invalid(
          '<nil>',
          null,
          'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
        ),
      );
    } else {
      celRules(this.schema, candidate, '', errs, true);
    }
    return errs;
  }
}

const ROOT_META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

const childPath = (path: string, key: string): string => (path ? `${path}.${key}` : key);

function prune(value: unknown, s: StructuralSchema, path: string, unknown: string[], root = false): void {
  if (Array.isArray(value)) {
    const items = s.items;
    if (items)
      value.forEach((v, i) => {
        prune(v, items, `${path}[${i}]`, unknown);
      });
    return;
  }
  if (!isObject(value)) return;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  for (const key of Object.keys(value)) {
    if (root && ROOT_META_FIELDS.has(key)) continue;
    const prop = s.properties?.[key];
    const additional = isObject(s.additionalProperties) ? (s.additionalProperties as StructuralSchema) : undefined;
    const sub = prop ?? additional;
    const p = prop ? childPath(path, key) : additional ? `${path}[${key}]` : childPath(path, key);
    if (!sub) {
      if (!preserve && s.additionalProperties !== true) {
        unknown.push(p);
        delete value[key];
      }
      continue;
    }
    if (value[key] === null && !sub.nullable) {
      delete value[key];
      continue;
    }
    prune(value[key], sub, p, unknown);
  }
}

function applyDefaults(value: unknown, s: StructuralSchema, root = false): void {
  if (Array.isArray(value)) {
    if (s.items) for (const v of value) applyDefaults(v, s.items);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (root && key === 'metadata') continue;
    if (value[key] === undefined && prop.default !== undefined) value[key] = clone(prop.default);
    if (value[key] !== undefined) applyDefaults(value[key], prop);
  }
  if (isObject(s.additionalProperties)) {
    for (const key of Object.keys(value)) {
      if (!s.properties?.[key]) applyDefaults(value[key], s.additionalProperties as StructuralSchema);
    }
  }
}

/** Ajv's instancePath (`/spec/items/0/name`) as a field path (`spec.items[0].name`), walking schema and data. */
function fieldPath(pointer: string, data: unknown, schema: StructuralSchema): { path: string; node: StructuralSchema } {
  let path = '';
  let node: StructuralSchema = schema;
  let cur: unknown = data;
  if (pointer === '') return { path, node };
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      path += `[${seg}]`;
      node = node.items ?? {};
      cur = cur[Number(seg)];
    } else {
      if (node.properties?.[seg]) {
        path = childPath(path, seg);
        node = node.properties[seg];
      } else if (isObject(node.additionalProperties)) {
        path += `[${seg}]`;
        node = node.additionalProperties as StructuralSchema;
      } else {
        path = childPath(path, seg);
        node = {};
      }
      cur = isObject(cur) ? cur[seg] : undefined;
    }
  }
  return { path, node };
}

const jsonType = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'number'
        ? Number.isInteger(v)
          ? 'integer'
          : 'number'
        : typeof v;

/** One Ajv error as kube-openapi + apiextensions report it. */
function toFieldErrors(e: ErrorObject, data: unknown, schema: StructuralSchema): FieldError[] {
  const { path } = fieldPath(e.instancePath, data, schema);
  const p = e.params as Record<string, unknown>;
  const v = e.data;
  const inBody = `${path} in body`;
  switch (e.keyword) {
    case 'required':
      return [fieldErrors.required(childPath(path, String(p.missingProperty)))];
    case 'enum':
      return [fieldErrors.notSupported(path, v, p.allowedValues as unknown[])];
    case 'type':
      return [fieldErrors.typeInvalid(path, jsonType(v), `${inBody} must be of type ${p.type}: "${jsonType(v)}"`)];
    case 'maxLength':
      return [fieldErrors.tooLong(path, Number(p.limit))];
    case 'maxItems':
      return [fieldErrors.tooMany(path, (v as unknown[]).length, Number(p.limit))];
    case 'maxProperties':
      return [fieldErrors.tooMany(path, Object.keys(v as object).length, Number(p.limit))];
    case 'pattern':
      return [fieldErrors.invalid(path, v, `${inBody} should match '${p.pattern}'`)];
    case 'minLength':
      return [fieldErrors.invalid(path, v, `${inBody} should be at least ${p.limit} chars long`)];
    case 'minimum':
      return [fieldErrors.invalid(path, v, `${inBody} should be greater than or equal to ${p.limit}`)];
    case 'maximum':
      return [fieldErrors.invalid(path, v, `${inBody} should be less than or equal to ${p.limit}`)];
    case 'exclusiveMinimum':
      return [fieldErrors.invalid(path, v, `${inBody} should be greater than ${p.limit}`)];
    case 'exclusiveMaximum':
      return [fieldErrors.invalid(path, v, `${inBody} should be less than ${p.limit}`)];
    case 'minItems':
      return [fieldErrors.invalid(path, (v as unknown[]).length, `${inBody} should have at least ${p.limit} items`)];
    case 'minProperties':
      return [
        fieldErrors.invalid(
          path,
          Object.keys(v as object).length,
          `${inBody} should have at least ${p.limit} properties`,
        ),
      ];
    case 'multipleOf':
      return [fieldErrors.invalid(path, v, `${inBody} should be a multiple of ${p.multipleOf}`)];
    case 'uniqueItems':
      return [fieldErrors.duplicate(`${path}[${p.i}]`, (v as unknown[])[Number(p.i)])];
    case 'format':
      return [fieldErrors.invalid(path, v, `${inBody} must be of type ${p.format}: ${JSON.stringify(String(v))}`)];
    case 'anyOf':
    case 'oneOf':
    case 'allOf':
    case 'not':
      return []; // the failing branches report themselves
    default:
      return [fieldErrors.invalid(path, v, `${inBody} ${e.message ?? 'is invalid'}`)];
  }
}

type CelProgram = (ctx: Record<string, unknown>) => unknown;
const programs = new Map<string, CelProgram | null>();

function program(rule: string): CelProgram | null {
  if (!programs.has(rule)) {
    try {
      programs.set(rule, parseCel(rule) as unknown as CelProgram);
    } catch {
      programs.set(rule, null); // a rule cel-js cannot parse is skipped
    }
  }
  return programs.get(rule) ?? null;
}

/** `.timeZone` or `.a.b` or `['key']` (a rule's fieldPath) appended to a field path. */
function ruleFieldPath(base: string, fieldPathExpr: string | undefined): string {
  if (!fieldPathExpr) return base;
  let out = base;
  for (const m of fieldPathExpr.matchAll(/\.([A-Za-z_$][\w$-]*)|\['([^']*)'\]|\[(\d+)\]/g)) {
    if (m[1] !== undefined) out = childPath(out, m[1]);
    else if (m[2] !== undefined) out += `[${m[2]}]`;
    else out += `[${m[3]}]`;
  }
  return out;
}

function celRules(s: StructuralSchema, value: unknown, path: string, out: FieldError[], root = false): void {
  if (value === undefined || value === null) return;
  for (const r of s['x-kubernetes-validations'] ?? []) {
    if (/\boldSelf\b/.test(r.rule)) continue; // transition rules: not evaluated by the fake
    const fn = program(r.rule);
    if (!fn) continue;
    let ok: unknown;
    try {
      ok = fn({ self: value });
    } catch {
      ok = true; // evaluation errors (e.g. missing fields) are reported by the real server; skipped here
    }
    if (ok !== true) {
      const type = s.type ?? (Array.isArray(value) ? 'array' : typeof value);
      const reasonMap: Record<string, FieldError['type']> = {
        FieldValueRequired: 'FieldValueRequired',
        FieldValueForbidden: 'FieldValueForbidden',
        FieldValueDuplicate: 'FieldValueDuplicate',
      };
      const field = ruleFieldPath(root ? '' : path, r.fieldPath) || '<nil>';
      const message = r.message ?? `failed rule: ${r.rule}`;
      const type2 = (r.reason && reasonMap[r.reason]) || 'FieldValueInvalid';
      if (type2 === 'FieldValueInvalid') out.push(fieldErrors.invalid(field, type, message));
      else out.push({ type: type2, field, value: type, detail: message });
    }
  }
  if (Array.isArray(value)) {
    const items = s.items;
    if (items)
      value.forEach((v, i) => {
        celRules(items, v, `${path}[${i}]`, out);
      });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (root && key === 'metadata') continue;
    celRules(prop, value[key], childPath(path, key), out);
  }
  if (isObject(s.additionalProperties)) {
    for (const key of Object.keys(value)) {
      if (!s.properties?.[key]) {
        celRules(s.additionalProperties as StructuralSchema, value[key], `${path}[${key}]`, out);
      }
    }
  }
}
