/**
 * `$attr$` and `$reference:attr$` substitution in the URLs and bodies of event calls (DESIGN §2, digest §4.9).
 * Generic: every connector type with event activities uses it.
 *
 * Tokens: only `\$(?:[A-Za-z0-9_]+:)?[A-Za-z0-9_]+\$`. A literal `$` must be written `%24` in URLs (seed), and
 * `%24` is never decoded, so no value can turn into a token.
 *
 * Resolution (the one rule):
 *   `$attr$`       → `data.attr` (the card's own attribute)
 *   `$ref:attr$`   → `data.reference.ref.attr`: attribute `attr` of the card that the card's reference `ref`
 *                    points to. DESIGN writes this `$reference:attr$`, "reference" standing for the reference's
 *                    name, as in the vendor's e-mail nodes: `$manager:mail$` reads data.reference.manager.mail.
 *                    (A reference that is itself called "reference" is `$reference:attr$` literally.) The pattern
 *                    allows no dots, so there is no `$reference:manager.mail$` form.
 * Only own properties count (`$constructor$` is not Object.prototype.constructor). A missing attribute or
 * reference is an UnknownAttributeError: sending the call with a hole in it could hit the wrong resource.
 *
 * Encoding:
 *   URL   every value is one percent-encoded component (encodeURIComponent): `/`, `?`, `#`, `&` and `%` cannot
 *         create segments or parameters. Arrays are joined with commas, then encoded; null is ''. A value that
 *         would make a whole path segment `.` or `..` is refused (the URL parser would resolve it).
 *   JSON  inside a string literal: the text is JSON-escaped, so it cannot close the string or add fields.
 *         Outside any string: the value as JSON (numbers, booleans, null, objects, arrays raw; strings quoted).
 *         A body that is exactly one token (trimmed) whose value is an object/array, or a string holding a
 *         JSON object/array, is that document raw (seed 000 L540: a pre-built JSON body in one attribute).
 *   Text  for non-JSON bodies with a non-JSON Content-Type: the plain text, or form-encoded for forms.
 * Date and date-time strings (ISO) go through `formatString` first, wherever they are inserted.
 * Templates are parsed once and cached, because the same node calls the same template over and over.
 */

export const TOKEN_SOURCE = '\\$(?:[A-Za-z0-9_]+:)?[A-Za-z0-9_]+\\$';
/** Sticky: tried at one position while a template is scanned; compiled once. */
const TOKEN_AT = new RegExp(TOKEN_SOURCE, 'y');
const TOKEN_ANYWHERE = new RegExp(TOKEN_SOURCE);
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** One token of a template. */
export interface Token {
  /** As written between the dollars: `attr` or `ref:attr`. */
  name: string;
  /** The reference name for `ref:attr`. */
  reference?: string;
  attribute: string;
}

export interface SubstitutionOptions {
  /** Where the template came from, for messages: `input.url`, `input.body`. */
  where: string;
  /** Rewrites string values before insertion (dates with the task's formats). */
  formatString?: (value: string) => string;
}

/** The data of one invocation: the card's attributes, and `reference` with those of referenced cards. */
export type SubstitutionData = Record<string, unknown>;

export class SubstitutionError extends Error {}

/** A token names an attribute (or reference) that the invocation's data does not have. */
export class UnknownAttributeError extends SubstitutionError {
  constructor(
    readonly token: Token,
    readonly where: string,
    missing: 'attribute' | 'reference',
  ) {
    const detail = token.reference
      ? missing === 'reference'
        ? ` (data.reference has no "${token.reference}")`
        : ` (data.reference.${token.reference} has no "${token.attribute}")`
      : '';
    super(`unknown attribute "${token.name}" in ${where}${detail}`);
  }
}

/** A substituted value would make a `.` or `..` path segment, which URL parsing resolves away. */
export class DotSegmentError extends SubstitutionError {
  constructor(
    readonly token: Token,
    readonly where: string,
  ) {
    super(`the value of "${token.name}" would make a "." or ".." path segment in ${where}`);
  }
}

/** The substituted body is not JSON although the template was (a safety net; the rules above prevent it). */
export class InvalidJsonError extends SubstitutionError {}

function parseToken(raw: string): Token {
  const name = raw.slice(1, -1);
  const colon = name.indexOf(':');
  return colon < 0
    ? { name, attribute: name }
    : { name, reference: name.slice(0, colon), attribute: name.slice(colon + 1) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The token's value; throws UnknownAttributeError when it is missing. null is a value (an empty attribute). */
export function resolveToken(token: Token, data: SubstitutionData, where: string): unknown {
  let holder: unknown = data;
  if (token.reference !== undefined) {
    const refs = data.reference;
    const ref = isObject(refs) && Object.hasOwn(refs, token.reference) ? refs[token.reference] : undefined;
    if (!isObject(ref)) throw new UnknownAttributeError(token, where, 'reference');
    holder = ref;
  }
  if (!isObject(holder) || !Object.hasOwn(holder, token.attribute)) {
    throw new UnknownAttributeError(token, where, 'attribute');
  }
  return holder[token.attribute];
}

/** Whether a string contains at least one token. */
export const hasTokens = (text: string): boolean => TOKEN_ANYWHERE.test(text);

// ---------------------------------------------------------------------------------------------------------------
// Values as text and as JSON

const identity = (s: string): string => s;

/** A value as plain text: URLs and the inside of JSON strings. */
export function valueText(value: unknown, format: (s: string) => string = identity): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return format(value);
  if (Array.isArray(value)) return value.map((v) => valueText(v, format)).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A value as a JSON text, for a token outside any string. */
export function valueJson(value: unknown, format: (s: string) => string = identity): string {
  if (typeof value === 'string') return JSON.stringify(format(value));
  if (Array.isArray(value)) return `[${value.map((v) => valueJson(v, format)).join(',')}]`;
  return JSON.stringify(value) ?? 'null';
}

/** JSON-escapes text for the inside of a string literal (quotes, backslashes, control characters). */
const jsonEscape = (text: string): string => JSON.stringify(text).slice(1, -1);

// ---------------------------------------------------------------------------------------------------------------
// Template cache

/** Compiled templates by text; bounded, oldest first out, so that odd one-off templates cannot grow it. */
class TemplateCache<T> {
  private readonly map = new Map<string, T>();
  constructor(private readonly max = 1000) {}
  get(key: string, build: (key: string) => T): T {
    let v = this.map.get(key);
    if (v === undefined) {
      v = build(key);
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
      this.map.set(key, v);
    }
    return v;
  }
}

/** Literal text and tokens, alternating. */
type Piece = string | Token;

function splitTokens(text: string): Piece[] {
  const pieces: Piece[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 36 /* $ */) {
      TOKEN_AT.lastIndex = i;
      const m = TOKEN_AT.exec(text);
      if (m) {
        if (literal) pieces.push(literal);
        literal = '';
        pieces.push(parseToken(m[0]));
        i += m[0].length - 1;
        continue;
      }
    }
    literal += text[i];
  }
  if (literal) pieces.push(literal);
  return pieces;
}

// ---------------------------------------------------------------------------------------------------------------
// URLs

interface UrlTemplate {
  /** Path segments (split at '/'), each a list of pieces; tokens never span a '/'. */
  segments: Piece[][];
  /** The query string without '?', or undefined when there is none. */
  query?: Piece[];
}

const urlTemplates = new TemplateCache<UrlTemplate>();

function compileUrl(template: string): UrlTemplate {
  const queryAt = template.indexOf('?');
  const path = queryAt < 0 ? template : template.slice(0, queryAt);
  return {
    segments: path.split('/').map(splitTokens),
    query: queryAt < 0 ? undefined : splitTokens(template.slice(queryAt + 1)),
  };
}

function renderUrlPieces(pieces: Piece[], data: SubstitutionData, options: SubstitutionOptions): string {
  let out = '';
  for (const piece of pieces) {
    out +=
      typeof piece === 'string'
        ? piece
        : encodeURIComponent(valueText(resolveToken(piece, data, options.where), options.formatString));
  }
  return out;
}

/**
 * Substitutes a URL template (a path with an optional query string, or an absolute URL). Every value becomes
 * one percent-encoded component. Throws UnknownAttributeError or DotSegmentError.
 */
export function substituteUrl(template: string, data: SubstitutionData, options: SubstitutionOptions): string {
  const compiled = urlTemplates.get(template, compileUrl);
  const segments = compiled.segments.map((pieces) => {
    if (pieces.length === 1 && typeof pieces[0] === 'string') return pieces[0];
    const text = renderUrlPieces(pieces, data, options);
    if (DOT_SEGMENT.test(text)) {
      throw new DotSegmentError(pieces.find((p): p is Token => typeof p !== 'string') as Token, options.where);
    }
    return text;
  });
  const path = segments.join('/');
  return compiled.query === undefined ? path : `${path}?${renderUrlPieces(compiled.query, data, options)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON bodies

interface JsonToken extends Token {
  inString: boolean;
}

interface BodyTemplate {
  pieces: Array<string | JsonToken>;
  /** The template is JSON once its tokens are filled (checked with placeholders). */
  json: boolean;
  /** Parser message when it is not. */
  jsonError?: string;
  /** The whole template (trimmed) is this one token. */
  single?: JsonToken;
}

const bodyTemplates = new TemplateCache<BodyTemplate>();

/** Splits a JSON text template into literals and tokens, noting for each token whether it sits in a string. */
function compileBody(template: string): BodyTemplate {
  const pieces: Array<string | JsonToken> = [];
  let literal = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template.charCodeAt(i);
    if (c === 36 /* $ */) {
      TOKEN_AT.lastIndex = i;
      const m = TOKEN_AT.exec(template);
      if (m) {
        if (literal) pieces.push(literal);
        literal = '';
        pieces.push({ ...parseToken(m[0]), inString });
        i += m[0].length - 1;
        continue;
      }
    }
    if (inString && c === 92 /* \ */) {
      // An escape: copy it with the escaped character, which may be a quote that does not end the string.
      literal += template.slice(i, i + 2);
      i++;
      continue;
    }
    if (c === 34 /* " */) inString = !inString;
    literal += template[i];
  }
  if (literal) pieces.push(literal);

  // Placeholders that are valid in their position: '' inside strings, null outside.
  const probe = pieces.map((p) => (typeof p === 'string' ? p : p.inString ? '' : 'null')).join('');
  let json = true;
  let jsonError: string | undefined;
  try {
    JSON.parse(probe);
  } catch (e) {
    json = false;
    jsonError = (e as Error).message;
  }
  const trimmed = template.trim();
  const only = pieces.filter((p) => typeof p !== 'string' || p.trim() !== '');
  const single =
    only.length === 1 && typeof only[0] !== 'string' && trimmed === `$${only[0].name}$` ? only[0] : undefined;
  return { pieces, json, jsonError, single };
}

/** Whether a body template is JSON (tokens count as values); with the parser's reason when not. */
export function bodyTemplateIsJson(template: string): { json: boolean; error?: string } {
  const t = bodyTemplates.get(template, compileBody);
  return { json: t.json, error: t.jsonError };
}

/** A JSON object or array held in a string, for the single-token raw body. */
function jsonDocumentIn(value: string): boolean {
  const t = value.trimStart();
  if (t[0] !== '{' && t[0] !== '[') return false;
  try {
    JSON.parse(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Substitutes a JSON body template. Throws UnknownAttributeError, or InvalidJsonError when the template was
 * JSON and the result is not (the rules keep that from happening; the check makes sure of it).
 */
export function substituteJson(template: string, data: SubstitutionData, options: SubstitutionOptions): string {
  const compiled = bodyTemplates.get(template, compileBody);
  const format = options.formatString;
  if (compiled.single) {
    const value = resolveToken(compiled.single, data, options.where);
    if (isObject(value) || Array.isArray(value)) return JSON.stringify(value);
    if (typeof value === 'string' && jsonDocumentIn(value)) return value;
  }
  let out = '';
  for (const piece of compiled.pieces) {
    if (typeof piece === 'string') out += piece;
    else {
      const value = resolveToken(piece, data, options.where);
      out += piece.inString ? jsonEscape(valueText(value, format)) : valueJson(value, format);
    }
  }
  if (compiled.json) {
    try {
      JSON.parse(out);
    } catch (e) {
      throw new InvalidJsonError(`${options.where} is not valid JSON after substitution: ${(e as Error).message}`);
    }
  }
  return out;
}

const textTemplates = new TemplateCache<Piece[]>();

/** Substitutes a non-JSON body: values as plain text, or form-encoded (`application/x-www-form-urlencoded`). */
export function substituteText(
  template: string,
  data: SubstitutionData,
  options: SubstitutionOptions & { form?: boolean },
): string {
  const pieces = textTemplates.get(template, splitTokens);
  let out = '';
  for (const piece of pieces) {
    if (typeof piece === 'string') out += piece;
    else {
      const text = valueText(resolveToken(piece, data, options.where), options.formatString);
      out += options.form ? encodeURIComponent(text) : text;
    }
  }
  return out;
}
