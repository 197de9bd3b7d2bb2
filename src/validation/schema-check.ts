/**
 * Structural validation of one resource against its JSON Schema (Ajv), then the cross-field CEL
 * rules (`x-kubernetes-validations`) the same schema carries for the API server. Evaluating the very
 * rules the CRD ships keeps `provisio validate` and `kubectl apply` in agreement.
 */
import { type EvaluationError, parse as parseCel } from '@marcbachmann/cel-js';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { connectorSchema, taskSchema } from '../generated/schemas.js';
import type { JsonSchema } from '../schema/bundle.js';
import { didYouMean, type PathSegment } from './diagnostics.js';

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  a: Ajv,
) => Ajv;

export interface SchemaFinding {
  path: PathSegment[];
  /** Point at the key (unknown fields) rather than the value. */
  at: 'value' | 'key';
  message: string;
}

interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: false, allowUnionTypes: true });
addFormats(ajv);
ajv.addKeyword({ keyword: 'x-message' });
ajv.addKeyword({ keyword: 'x-kubernetes-validations' });
ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields' });

export const SCHEMAS: Record<string, JsonSchema> = { Connector: connectorSchema, Task: taskSchema };
const validators = new Map<string, ValidateFunction>();

function validatorFor(kind: string): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    v = ajv.compile(SCHEMAS[kind]);
    validators.set(kind, v);
  }
  return v;
}

/** Turns an Ajv instancePath (JSON pointer) into segments, numbers where the value is an array. */
function pointerToPath(pointer: string, value: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let cur: unknown = value;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      path.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      path.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return path;
}

const describeType = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a map'
        : `${typeof v} ${JSON.stringify(v)}`;

const SECRET_FIELD =
  /^(password|passwd|pwd|token|secret|clientsecret|client_secret|apikey|api_key|privatekey|private_key)$/i;

/** Where an unknown field would be known: a sibling block that declares it (a field indented one level off). */
function belongsUnder(name: string, schema: JsonSchema, resolve: (s: JsonSchema) => JsonSchema): string | undefined {
  for (const [prop, sub] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    const props = resolve(sub).properties as Record<string, unknown> | undefined;
    if (props && name in props) return prop;
  }
  return undefined;
}

function messageFor(e: ErrorObject, resolve: (s: JsonSchema) => JsonSchema): string | undefined {
  const schema = (e.parentSchema ?? {}) as JsonSchema;
  const custom = typeof schema['x-message'] === 'string' ? (schema['x-message'] as string) : undefined;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties': {
      const name = String(e.params.additionalProperty);
      const allowed = Object.keys((schema.properties ?? {}) as object);
      if (SECRET_FIELD.test(name)) {
        return `unknown field "${name}": secrets are never written inline; put the value in the Secret that secretRef names`;
      }
      const home = belongsUnder(name, schema, resolve);
      if (home)
        return `unknown field "${name}" here: it belongs under ${home} (indent it one level deeper, under ${home}:)`;
      const hint = didYouMean(name, allowed);
      return `unknown field "${name}"${hint || (allowed.length > 0 && allowed.length <= 12 ? ` (allowed: ${allowed.join(', ')})` : '')}`;
    }
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map(String);
      const got = typeof e.data === 'string' ? didYouMean(e.data, allowed) : '';
      return `must be one of ${allowed.join(', ')}, not ${JSON.stringify(e.data)}${got}`;
    }
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}, not ${JSON.stringify(e.data)}`;
    case 'type': {
      const expected = String(e.params.type).replace(/,/g, ' or ');
      const article = /^[aeiou]/.test(expected) ? 'an' : 'a';
      const wanted = expected === 'object' ? 'a map' : expected === 'array' ? 'a list' : `${article} ${expected}`;
      let hint = '';
      if (typeof e.data === 'string' && /^(integer|number)/.test(expected) && /^-?\d+(\.\d+)?$/.test(e.data)) {
        hint = ' (remove the quotes)';
      } else if (typeof e.data === 'string' && expected === 'boolean' && /^(true|false)$/i.test(e.data)) {
        hint = ' (write true or false without quotes)';
      } else if (e.data === null && expected === 'object') {
        hint = ' (is the block empty or its content not indented under it?)';
      }
      return `must be ${wanted}, not ${describeType(e.data)}${hint}`;
    }
    case 'pattern':
      return custom ?? `must match ${String(e.params.pattern)}`;
    case 'format':
      return `must be a valid ${String(e.params.format)}`;
    case 'minItems':
      return e.params.limit === 1 ? 'must not be empty' : `must have at least ${e.params.limit} items`;
    case 'maxItems':
      return `must have at most ${e.params.limit} items`;
    case 'minProperties':
    case 'maxProperties':
      return custom ?? `must have ${e.keyword === 'minProperties' ? 'at least' : 'at most'} ${e.params.limit} fields`;
    case 'minLength':
      return e.params.limit === 1 ? 'must not be empty' : `must be at least ${e.params.limit} characters long`;
    case 'maxLength':
      return `must be at most ${e.params.limit} characters long`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${e.message}, not ${JSON.stringify(e.data)}`;
    case 'if':
    case 'then':
    case 'else':
    case 'anyOf':
    case 'oneOf':
      return undefined; // their sub-errors say what is wrong
    default:
      return custom ?? e.message;
  }
}

const compiledCel = new Map<string, (ctx: Record<string, unknown>) => unknown>();

function evaluateRule(rule: string, self: unknown): boolean | undefined {
  let fn = compiledCel.get(rule);
  if (!fn) {
    fn = parseCel(rule) as unknown as (ctx: Record<string, unknown>) => unknown;
    compiledCel.set(rule, fn);
  }
  try {
    return fn({ self }) === true;
  } catch (e) {
    // A rule that cannot evaluate reads a field of the wrong type; Ajv already reported that.
    void (e as EvaluationError);
    return undefined;
  }
}

/** First-level fields a rule reads: `self.type == 'rest'` reads type. */
const fieldsReadBy = (rule: string): string[] => [
  ...new Set([...rule.matchAll(/self\.([A-Za-z0-9_]+)/g)].map((m) => m[1])),
];

/** `.mappings.generic.attributes` → ['mappings', 'generic', 'attributes']. */
const fieldPathSegments = (fieldPath: string | undefined): PathSegment[] =>
  fieldPath ? fieldPath.replace(/^\./, '').split('.').filter(Boolean) : [];

function resolveRef(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let s = schema;
  while (typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/definitions/', '');
    const { $ref: _r, ...rest } = s;
    s = { ...((root.definitions as Record<string, JsonSchema>)[name] ?? {}), ...rest };
  }
  return s;
}

/** Applies the CEL rules of every schema node that has a value, depth first. */
function celFindings(
  schema: JsonSchema,
  value: unknown,
  path: PathSegment[],
  root: JsonSchema,
  structurallyBroken: (path: PathSegment[]) => boolean,
  out: SchemaFinding[],
): void {
  const s = resolveRef(schema, root);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const rules = (s['x-kubernetes-validations'] ?? []) as CelRule[];
    if (rules.length > 0) {
      for (const r of rules) {
        // A rule reading a field that is itself broken would only echo that error in other words.
        if (fieldsReadBy(r.rule).some((f) => structurallyBroken([...path, f]))) continue;
        if (evaluateRule(r.rule, obj) === false) {
          out.push({ path: [...path, ...fieldPathSegments(r.fieldPath)], at: 'key', message: r.message });
        }
      }
    }
    const props = (s.properties ?? {}) as Record<string, JsonSchema>;
    for (const [k, sub] of Object.entries(props)) {
      if (k in obj) celFindings(sub, obj[k], [...path, k], root, structurallyBroken, out);
    }
  } else if (Array.isArray(value) && s.items) {
    value.forEach((item, i) => {
      celFindings(s.items as JsonSchema, item, [...path, i], root, structurallyBroken, out);
    });
  }
}

/**
 * Validates a resource of a known kind. Defaults are applied to `value` in place, as the API server
 * would, so that rules and the engine see the effective configuration.
 */
export function checkSchema(kind: string, value: unknown): SchemaFinding[] {
  const validate = validatorFor(kind);
  const findings: SchemaFinding[] = [];
  validate(value);
  const brokenAt: string[] = [];
  const root = SCHEMAS[kind];
  for (const e of validate.errors ?? []) {
    const message = messageFor(e, (sch) => resolveRef(sch, root));
    if (!message) continue;
    const base = pointerToPath(e.instancePath, value);
    let path = base;
    let at: 'value' | 'key' = 'value';
    if (e.keyword === 'required') path = [...base, String(e.params.missingProperty)];
    if (e.keyword === 'additionalProperties') {
      path = [...base, String(e.params.additionalProperty)];
      at = 'key';
    }
    brokenAt.push(JSON.stringify(base));
    findings.push({ path, at, message });
  }
  // A node is broken when a structural error sits at it or below it.
  const broken = (p: PathSegment[]): boolean => {
    const self = JSON.stringify(p).slice(0, -1);
    return brokenAt.some((b) => b === `${self}]` || b.startsWith(`${self},`));
  };
  celFindings(SCHEMAS[kind], value, [], SCHEMAS[kind], broken, findings);
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${JSON.stringify(f.path)} ${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
