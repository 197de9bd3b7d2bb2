/**
 * ObjectMeta rules every resource shares: which metadata fields exist (others are dropped, as decoding into
 * metav1.ObjectMeta drops them), name/namespace/label/annotation validation with apimachinery's messages, the
 * server-set timestamps, and generateName.
 */
import { type FieldError, fieldErrors } from './status.js';

const META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
]);

/** Drops fields ObjectMeta does not have; returns their paths (`metadata.foo`) for unknown-field warnings. */
export function pruneMeta(meta: Record<string, unknown>): string[] {
  const dropped: string[] = [];
  for (const k of Object.keys(meta)) {
    if (k === 'managedFields') {
      delete meta[k]; // server-side apply bookkeeping: not maintained by the fake
    } else if (!META_FIELDS.has(k)) {
      dropped.push(`metadata.${k}`);
      delete meta[k];
    } else if (meta[k] === null) {
      delete meta[k];
    }
  }
  return dropped;
}

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;

/** validation.RegexError: `<msg> (e.g. 'a',  or 'b', regex used for validation is '<re>')`. */
const regexError = (msg: string, re: string, ...examples: string[]): string =>
  `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${re}')`;

const full = (re: string): RegExp => new RegExp(`^${re}$`);

export function dns1123Subdomain(value: string): string[] {
  const out: string[] = [];
  if (value.length > 253) out.push('must be no more than 253 characters');
  if (!full(DNS1123_SUBDOMAIN).test(value)) {
    out.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN,
        'example.com',
      ),
    );
  }
  return out;
}

export function dns1123Label(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL).test(value)) {
    out.push(
      regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        DNS1123_LABEL,
        'my-name',
        '123-abc',
      ),
    );
  }
  return out;
}

export function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  let name = value;
  const out: string[] = [];
  if (parts.length === 2) {
    const [prefix, n] = parts;
    name = n;
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else out.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [
      `${regexError(
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        QUALIFIED_NAME,
        'MyName',
        'my.name',
        '123-abc',
      )} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  if (name.length > 0 && !full(QUALIFIED_NAME).test(name)) {
    out.push(
      regexError(
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        QUALIFIED_NAME,
        'MyName',
        'my.name',
        '123-abc',
      ),
    );
  }
  return out;
}

export function labelValue(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (!full(LABEL_VALUE).test(value)) {
    out.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        LABEL_VALUE,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  }
  return out;
}

/** path.ValidatePathSegmentName: what names of types without a stricter rule (core/v1 Events) must satisfy. */
export function pathSegmentName(value: string, prefix: boolean): string[] {
  const out: string[] = [];
  if (!prefix && (value === '.' || value === '..')) out.push(`may not be '${value}'`);
  for (const c of ['/', '%']) if (value.includes(c)) out.push(`may not contain '${c}'`);
  return out;
}

/** How metadata.name is validated: DNS subdomain (most types), DNS label (Namespaces), path segment (core Events). */
export type NameRule = 'subdomain' | 'label' | 'path';

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** ValidateObjectMetaAccessor: name (or generateName), namespace scope, labels, annotations. */
export function validateMeta(meta: Record<string, unknown>, namespaced: boolean, nameRule: NameRule): FieldError[] {
  const errs: FieldError[] = [];
  const check = (value: string, prefix: boolean): string[] => {
    if (nameRule === 'path') return pathSegmentName(value, prefix);
    // maskTrailingDash: a generateName may end in '-'.
    const v = prefix && value.length > 1 && value.endsWith('-') ? `${value.slice(0, -1)}a` : value;
    return nameRule === 'label' ? dns1123Label(v) : dns1123Subdomain(v);
  };
  const name = typeof meta.name === 'string' ? meta.name : '';
  const generateName = typeof meta.generateName === 'string' ? meta.generateName : '';
  if (generateName) {
    for (const m of check(generateName, true)) errs.push(fieldErrors.invalid('metadata.generateName', generateName, m));
  }
  if (!name) errs.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  else for (const m of check(name, false)) errs.push(fieldErrors.invalid('metadata.name', name, m));
  const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
  if (namespaced) {
    if (!ns) errs.push(fieldErrors.required('metadata.namespace'));
    else for (const m of dns1123Label(ns)) errs.push(fieldErrors.invalid('metadata.namespace', ns, m));
  } else if (ns) {
    errs.push(fieldErrors.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  const labels = (meta.labels ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(labels)) {
    for (const m of qualifiedName(k)) errs.push(fieldErrors.invalid('metadata.labels', k, m));
    for (const m of labelValue(String(v))) errs.push(fieldErrors.invalid('metadata.labels', v, m));
  }
  const annotations = (meta.annotations ?? {}) as Record<string, unknown>;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of qualifiedName(k.toLowerCase())) errs.push(fieldErrors.invalid('metadata.annotations', k, m));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT)
    errs.push(fieldErrors.tooLong('metadata.annotations', TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

/** metav1.Time as it is serialized: RFC 3339 in UTC, whole seconds. */
export const formatTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const nowTime = (): string => formatTime(new Date());

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 time; returns the UTC instant (ms) and the fractional-second digits, or undefined. */
function parseRfc3339(s: string): { ms: number; fraction: string } | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}${m[6].toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return { ms, fraction: (m[5] ?? '').slice(1) };
}

/** Re-serializes a metav1.Time field (whole seconds, UTC); undefined when it does not parse. */
export function normalizeTime(s: string): string | undefined {
  const t = parseRfc3339(s);
  return t ? formatTime(new Date(t.ms)) : undefined;
}

export const MICRO_TIME_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';

/**
 * Parses a metav1.MicroTime as Go's time.Parse(RFC3339Micro) does: exactly six fractional digits ("...:05Z" and
 * "...:05.123Z" are refused). Returns the re-serialized UTC value, or the parse error's text.
 */
export function parseMicroTime(s: string): { value: string } | { error: string } {
  const fail = (valueElem: string, layoutElem: string) => ({
    error: `parsing time ${JSON.stringify(s)} as "${MICRO_TIME_LAYOUT}": cannot parse ${JSON.stringify(valueElem)} as ${JSON.stringify(layoutElem)}`,
  });
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(s)) return fail(s, '2006');
  const rest = s.slice(19);
  const digits = /^\.(\d*)/.exec(rest)?.[1] ?? '';
  if (!rest.startsWith('.') || digits.length < 6) return fail(rest, '.000000');
  if (digits.length > 6) return fail(rest.slice(7), 'Z07:00');
  const t = parseRfc3339(s);
  if (!t) return fail(rest.slice(7), 'Z07:00');
  return { value: `${formatTime(new Date(t.ms)).slice(0, -1)}.${digits}Z` };
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** names.SimpleNameGenerator: the prefix (cut to leave room) and five random characters. */
export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return prefix.slice(0, 63 - 5) + suffix;
}
