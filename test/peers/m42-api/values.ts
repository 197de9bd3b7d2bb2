/**
 * Attribute values of the simulated REST API, per attribute type: what a write may send (`{values: [...]}`
 * items), how it is checked (per-attribute errors `{attributeCode, attributeType, message, error}`) and stored,
 * and how it reads back. Shapes from shared/reference/m42-rest-api.md "Card JSON":
 * - string `{value: "text"}`, number `{value: 42}` (decimals plain), date `{value: "2021-03-24"}`, datetime
 *   `{value: "2021-03-24T10:57:57Z"}` reported as `type: "date"`;
 * - reference: write `{dataCardId}`, read `{name, dataCardId, templateName, templateCode, deleted, hidden, url}`;
 * - static-value `{value, code}` (code may be null: a "static date"); external-reference `{name, location}`;
 *   worklog: write `{value}`, read `{author, value, date}`.
 *
 * Choices where the reference is silent:
 * - A string attribute takes numbers and booleans as their text; a number attribute takes a numeric string.
 * - A date takes `yyyy-MM-dd`; a datetime an ISO-8601 instant with Z or an offset (stored and read in UTC,
 *   without milliseconds). Anything else is a per-attribute error.
 * - A static value matches by value and code when both are given, else by the one given; the message is the
 *   reference's: "Couldn't find static-value with value: V and code: C from attribute: NAME".
 * - A reference must name an existing card (in the trash or not) of one of the attribute's target templates
 *   (any template when the attribute lists none).
 * - Worklog entries are appended (a log is never rewritten), with the writing user as author and the
 *   simulator's clock as date; `values: []` on a worklog changes nothing.
 */

export type AttributeType =
  | 'string'
  | 'number'
  | 'date'
  | 'datetime'
  | 'reference'
  | 'static-value'
  | 'external-reference'
  | 'worklog';

export interface AttributeDef {
  code: string;
  name: string;
  type: AttributeType;
  multiValue: boolean;
  unique: boolean;
  values: Array<{ code: string | null; value: string }>;
  target: string[];
}

/** A stored value: the write shape after checking (references by id only). */
export type StoredValue =
  | { value: string }
  | { value: number }
  | { dataCardId: number }
  | { value: string; code: string | null }
  | { name: string; location: string }
  | { author: string; value: string; date: string };

export interface AttributeError {
  attributeCode: string | null;
  attributeType: string | null;
  message: string;
  error: string;
}

/** The type name the API reports: datetime attributes say "date". */
export function apiType(type: AttributeType): string {
  return type === 'datetime' ? 'date' : type;
}

export function attributeError(attr: AttributeDef | undefined, code: string | null, message: string): AttributeError {
  return { attributeCode: code, attributeType: attr ? apiType(attr.type) : null, message, error: 'Bad Request' };
}

/** What the write path needs from the store to check values. */
export interface ValueContext {
  /** The template of an existing card, or undefined. */
  cardTemplate(id: number): string | undefined;
  login: string;
  now: () => number;
}

export type Checked = { ok: true; value: StoredValue } | { ok: false; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function utcSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function checkDate(raw: unknown, attr: AttributeDef): Checked {
  const s = typeof raw === 'string' ? raw : undefined;
  if (attr.type === 'date') {
    const ok = s !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
    return ok
      ? { ok: true, value: { value: s } }
      : { ok: false, message: `Couldn't parse date from value: ${String(raw)} for attribute: ${attr.name}` };
  }
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
  const ms = s !== undefined && iso.test(s) ? Date.parse(s) : Number.NaN;
  return Number.isNaN(ms)
    ? { ok: false, message: `Couldn't parse date-time from value: ${String(raw)} for attribute: ${attr.name}` }
    : { ok: true, value: { value: utcSeconds(ms) } };
}

function checkReference(item: Record<string, unknown>, attr: AttributeDef, ctx: ValueContext): Checked {
  const raw = item.dataCardId;
  const id = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  const template = Number.isInteger(id) ? ctx.cardTemplate(id) : undefined;
  if (template !== undefined && (attr.target.length === 0 || attr.target.includes(template))) {
    return { ok: true, value: { dataCardId: id } };
  }
  const targets = attr.target.length > 0 ? `[${attr.target.join(', ')}]` : 'any template';
  return {
    ok: false,
    message: `Couldn't find data card with id: ${String(raw)} from templates: ${targets} for attribute: ${attr.name}`,
  };
}

function checkStatic(item: Record<string, unknown>, attr: AttributeDef): Checked {
  const value = item.value === undefined || item.value === null ? undefined : text(item.value);
  const code = item.code === undefined || item.code === null ? undefined : text(item.code);
  const found = attr.values.find(
    (v) =>
      (value !== undefined || code !== undefined) &&
      (value === undefined || v.value === value) &&
      (code === undefined || v.code === code),
  );
  if (found) return { ok: true, value: { value: found.value, code: found.code } };
  return {
    ok: false,
    message: `Couldn't find static-value with value: ${value ?? null} and code: ${code ?? null} from attribute: ${attr.name}`,
  };
}

/** Checks one written value against its attribute. */
export function checkValue(item: unknown, attr: AttributeDef, ctx: ValueContext): Checked {
  if (!isObject(item)) return { ok: false, message: `A value of attribute: ${attr.name} must be an object` };
  switch (attr.type) {
    case 'string': {
      const v = text(item.value);
      return v === undefined
        ? { ok: false, message: `Missing text value for attribute: ${attr.name}` }
        : { ok: true, value: { value: v } };
    }
    case 'number': {
      const n =
        typeof item.value === 'number' ? item.value : typeof item.value === 'string' ? Number(item.value) : Number.NaN;
      const blank = typeof item.value === 'string' && item.value.trim() === '';
      return Number.isFinite(n) && !blank
        ? { ok: true, value: { value: n } }
        : { ok: false, message: `Couldn't parse number from value: ${String(item.value)} for attribute: ${attr.name}` };
    }
    case 'date':
    case 'datetime':
      return checkDate(item.value, attr);
    case 'reference':
      return checkReference(item, attr, ctx);
    case 'static-value':
      return checkStatic(item, attr);
    case 'external-reference': {
      const name = text(item.name);
      const location = text(item.location);
      return name === undefined || location === undefined
        ? { ok: false, message: `An external reference needs name and location for attribute: ${attr.name}` }
        : { ok: true, value: { name, location } };
    }
    case 'worklog': {
      const v = text(item.value);
      return v === undefined
        ? { ok: false, message: `Missing worklog text for attribute: ${attr.name}` }
        : { ok: true, value: { author: ctx.login, value: v, date: utcSeconds(ctx.now()) } };
    }
  }
}

/** The comparable form of a stored value for EQL and unique checks. */
export function primitive(v: StoredValue, refName: (id: number) => string): string | number {
  if ('dataCardId' in v) return refName(v.dataCardId);
  if ('location' in v) return v.name;
  return v.value;
}

export interface ReferencedCard {
  name: string;
  dataCardId: number;
  templateName: string;
  templateCode: string;
  deleted: boolean;
  hidden: boolean;
  url: string;
}

/** A stored value as the API reads it. */
export function readValue(
  v: StoredValue,
  reference: (id: number) => ReferencedCard | undefined,
): Record<string, unknown> {
  if ('dataCardId' in v) return { ...(reference(v.dataCardId) ?? { dataCardId: v.dataCardId }) };
  return { ...v };
}

/**
 * A plain value (`api.insert` with `{code: value}`) in the write shape: references as ids, static values by
 * value (or by code when no value matches), dates from Date objects, everything else as `{value}`.
 */
export function plainToWrite(value: unknown, attr: AttributeDef | undefined): Array<Record<string, unknown>> {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => {
    if (v instanceof Date)
      return { value: attr?.type === 'date' ? v.toISOString().slice(0, 10) : utcSeconds(v.getTime()) };
    if (isObject(v)) return v;
    if (attr?.type === 'reference') return { dataCardId: v };
    if (attr?.type === 'static-value' && !attr.values.some((s) => s.value === String(v))) return { code: v };
    return { value: v };
  });
}
