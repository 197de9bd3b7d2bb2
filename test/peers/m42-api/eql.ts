/**
 * The EQL WHERE part that the REST API's `filter` parameter takes: a tokenizer, a recursive-descent parser and
 * a compiler to a predicate over cards. Supported: AND, OR, NOT, parentheses; =, !=, <>, <, >, <=, >=;
 * [NOT] IN (...), [NOT] LIKE with % and _, IS [NOT] NULL; `$code$` attribute references; string literals in
 * single quotes with '' for a quote; numbers; the fields entity.id, entity.name, entity.deleted (0/1),
 * entity.hidden (0/1), entity.folder.code/name, entity.template.code/name (and template.code, folder.code).
 * A whole `SELECT entity FROM entity WHERE ...` is refused: the REST filter takes only the WHERE part.
 *
 * Choices where the reference is silent (EQL is compiled to SQL by the real solution, so SQL rules are used):
 * - Three-valued logic: a comparison with an empty attribute is UNKNOWN, not true: `$status$ != 'x'` does NOT
 *   select cards whose status is empty (write `($status$ IS NULL OR $status$ != 'x')`). NOT UNKNOWN is UNKNOWN;
 *   only TRUE selects a card.
 * - A multi-value attribute matches when any of its values matches (the SQL join), also for != and NOT IN.
 * - Comparisons and LIKE are case-sensitive. A static-value attribute compares its `value`, a reference its
 *   card's name, a worklog its entry text, an external reference its file name.
 * - Numbers compare numerically on number attributes and entity.id; dates compare as ISO text, with the
 *   relative literals 'now', 'today', 'start_day', 'start_week' (Monday), 'start_month', 'start_year' (UTC).
 * - An unknown `$code$` or field is a 400 like a syntax error.
 */

export class EqlError extends Error {
  override name = 'EqlError';
}

type Prim = string | number;

type Token =
  | { kind: 'str'; text: string; pos: number }
  | { kind: 'num'; value: number; text: string; pos: number }
  | { kind: 'attr'; code: string; text: string; pos: number }
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'punct'; text: string; pos: number }
  | { kind: 'end'; text: string; pos: number };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'IS', 'NULL']);
const STATEMENT_WORDS = new Set(['SELECT', 'FROM', 'WHERE', 'ORDER', 'LIMIT', 'OFFSET']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const pos = i + 1;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let out = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new EqlError(`unterminated string literal starting at position ${pos}`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            out += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        out += text[i++];
      }
      tokens.push({ kind: 'str', text: out, pos });
    } else if (c === '$') {
      const end = text.indexOf('$', i + 1);
      const code = end < 0 ? '' : text.slice(i + 1, end);
      if (!/^[A-Za-z0-9_]+$/.test(code)) throw new EqlError(`invalid attribute reference at position ${pos}`);
      tokens.push({ kind: 'attr', code, text: `$${code}$`, pos });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i))!;
      tokens.push({ kind: 'num', value: Number(m[0]), text: m[0], pos });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(i))!;
      tokens.push({ kind: 'word', text: m[0], pos });
      i += m[0].length;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, pos });
      i++;
    } else {
      const m = /^(<>|!=|<=|>=|=|<|>)/.exec(text.slice(i));
      if (!m) throw new EqlError(`unexpected character '${c}' at position ${pos}`);
      tokens.push({ kind: 'op', text: m[0], pos });
      i += m[0].length;
    }
  }
  tokens.push({ kind: 'end', text: 'end of filter', pos: text.length + 1 });
  return tokens;
}

export type Operand =
  | { kind: 'attr'; code: string }
  | { kind: 'field'; path: string }
  | { kind: 'literal'; value: Prim };

export type EqlNode =
  | { kind: 'and' | 'or'; left: EqlNode; right: EqlNode }
  | { kind: 'not'; expr: EqlNode }
  | { kind: 'cmp'; op: string; left: Operand; right: Operand }
  | { kind: 'in'; negated: boolean; operand: Operand; list: Prim[] }
  | { kind: 'like'; negated: boolean; operand: Operand; pattern: string }
  | { kind: 'null'; negated: boolean; operand: Operand };

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): EqlNode {
    const node = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw this.unexpected(t);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private isWord(word: string, t = this.peek()): boolean {
    return t.kind === 'word' && t.text.toUpperCase() === word;
  }

  private expectWord(word: string): void {
    const t = this.next();
    if (!this.isWord(word, t)) throw this.unexpected(t, word);
  }

  private expectPunct(p: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== p) throw this.unexpected(t, `'${p}'`);
  }

  private unexpected(t: Token, expected?: string): EqlError {
    const what = t.kind === 'end' ? 'end of filter' : `'${t.kind === 'str' ? `'${t.text}'` : t.text}'`;
    const hint =
      t.kind === 'word' && STATEMENT_WORDS.has(t.text.toUpperCase())
        ? ' (the filter takes only the WHERE part of an EQL query)'
        : '';
    return new EqlError(`unexpected ${what} at position ${t.pos}${expected ? `, expected ${expected}` : ''}${hint}`);
  }

  private or(): EqlNode {
    let left = this.and();
    while (this.isWord('OR')) {
      this.next();
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): EqlNode {
    let left = this.not();
    while (this.isWord('AND')) {
      this.next();
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): EqlNode {
    if (this.isWord('NOT')) {
      this.next();
      return { kind: 'not', expr: this.not() };
    }
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    return this.predicate();
  }

  private predicate(): EqlNode {
    const operand = this.operand();
    const t = this.peek();
    if (t.kind === 'op') {
      this.next();
      return { kind: 'cmp', op: t.text === '<>' ? '!=' : t.text, left: operand, right: this.operand() };
    }
    if (this.isWord('IS')) {
      this.next();
      const negated = this.isWord('NOT');
      if (negated) this.next();
      this.expectWord('NULL');
      return { kind: 'null', negated, operand };
    }
    const negated = this.isWord('NOT');
    if (negated) this.next();
    if (this.isWord('IN')) {
      this.next();
      return { kind: 'in', negated, operand, list: this.list() };
    }
    if (this.isWord('LIKE')) {
      this.next();
      const p = this.next();
      if (p.kind !== 'str') throw this.unexpected(p, 'a string pattern');
      return { kind: 'like', negated, operand, pattern: p.text };
    }
    throw this.unexpected(this.peek(), 'a comparison, IN, LIKE or IS [NOT] NULL');
  }

  private list(): Prim[] {
    this.expectPunct('(');
    const values: Prim[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'str') values.push(t.text);
      else if (t.kind === 'num') values.push(t.value);
      else throw this.unexpected(t, 'a literal');
      const sep = this.next();
      if (sep.kind === 'punct' && sep.text === ')') return values;
      if (sep.kind !== 'punct' || sep.text !== ',') throw this.unexpected(sep, "',' or ')'");
    }
  }

  private operand(): Operand {
    const t = this.next();
    if (t.kind === 'attr') return { kind: 'attr', code: t.code };
    if (t.kind === 'str') return { kind: 'literal', value: t.text };
    if (t.kind === 'num') return { kind: 'literal', value: t.value };
    if (t.kind === 'word' && !KEYWORDS.has(t.text.toUpperCase()) && !STATEMENT_WORDS.has(t.text.toUpperCase())) {
      return { kind: 'field', path: t.text.toLowerCase() };
    }
    throw this.unexpected(t, 'an attribute ($code$), a field or a literal');
  }
}

export function parseEql(text: string): EqlNode {
  if (text.trim() === '') throw new EqlError('the filter is empty');
  return new Parser(tokenize(text)).parse();
}

/** Whether the filter names entity.deleted itself (then trashed cards are not excluded by default). */
export function mentionsDeleted(node: EqlNode): boolean {
  const isDeleted = (o: Operand): boolean => o.kind === 'field' && o.path === 'entity.deleted';
  switch (node.kind) {
    case 'and':
    case 'or':
      return mentionsDeleted(node.left) || mentionsDeleted(node.right);
    case 'not':
      return mentionsDeleted(node.expr);
    case 'cmp':
      return isDeleted(node.left) || isDeleted(node.right);
    default:
      return isDeleted(node.operand);
  }
}

/**
 * `$code$ = literal` and `$code$ IN (...)` conditions that every selected card must meet (top-level AND
 * conjuncts): the store answers them from its unique index instead of scanning the template.
 */
export interface EqualityHint {
  code: string;
  values: Prim[];
}

export function equalityHints(node: EqlNode): EqualityHint[] {
  if (node.kind === 'and') return [...equalityHints(node.left), ...equalityHints(node.right)];
  if (node.kind === 'in' && !node.negated && node.operand.kind === 'attr') {
    return [{ code: node.operand.code, values: node.list }];
  }
  if (node.kind === 'cmp' && node.op === '=') {
    const { left, right } = node;
    if (left.kind === 'attr' && right.kind === 'literal') return [{ code: left.code, values: [right.value] }];
    if (right.kind === 'attr' && left.kind === 'literal') return [{ code: right.code, values: [left.value] }];
  }
  return [];
}

/** What the predicate reads of a card. */
export interface EqlRow {
  id: number;
  name: string;
  deleted: boolean;
  hidden: boolean;
  folderCode: string;
  folderName: string;
  templateCode: string;
  templateName: string;
  /** The attribute's values as comparable primitives ([] when empty). */
  values(code: string): Prim[];
}

export interface EqlSchema {
  templateCode: string;
  /** The attribute's type, or undefined when the template has no such attribute. */
  attributeType(code: string): string | undefined;
  /** The clock for relative date literals (ms). */
  now: number;
}

type Truth = boolean | null;
export type EqlPredicate = (row: EqlRow) => Truth;

type Kind = 'number' | 'date' | 'datetime' | 'text';
interface Compiled {
  kind: Kind;
  get(row: EqlRow): Prim[];
}

const FIELDS: Record<string, { kind: Kind; get: (row: EqlRow) => Prim }> = {
  'entity.id': { kind: 'number', get: (r) => r.id },
  'entity.name': { kind: 'text', get: (r) => r.name },
  'entity.deleted': { kind: 'number', get: (r) => (r.deleted ? 1 : 0) },
  'entity.hidden': { kind: 'number', get: (r) => (r.hidden ? 1 : 0) },
  'entity.folder.code': { kind: 'text', get: (r) => r.folderCode },
  'entity.folder.name': { kind: 'text', get: (r) => r.folderName },
  'entity.template.code': { kind: 'text', get: (r) => r.templateCode },
  'entity.template.name': { kind: 'text', get: (r) => r.templateName },
  'folder.code': { kind: 'text', get: (r) => r.folderCode },
  'folder.name': { kind: 'text', get: (r) => r.folderName },
  'template.code': { kind: 'text', get: (r) => r.templateCode },
  'template.name': { kind: 'text', get: (r) => r.templateName },
};

function kindOf(type: string): Kind {
  if (type === 'number') return 'number';
  if (type === 'date') return 'date';
  if (type === 'datetime') return 'datetime';
  return 'text';
}

function compileOperand(o: Operand, schema: EqlSchema): Compiled | { kind: 'literal'; value: Prim } {
  if (o.kind === 'literal') return o;
  if (o.kind === 'attr') {
    const type = schema.attributeType(o.code);
    if (type === undefined) {
      throw new EqlError(`unknown attribute $${o.code}$ in template '${schema.templateCode}'`);
    }
    return { kind: kindOf(type), get: (row) => row.values(o.code) };
  }
  const field = FIELDS[o.path];
  if (!field) throw new EqlError(`unknown field '${o.path}' (supported: ${Object.keys(FIELDS).join(', ')})`);
  return { kind: field.kind, get: (row) => [field.get(row)] };
}

function relativeDate(word: string, now: number): Date | undefined {
  const d = new Date(now);
  const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  switch (word) {
    case 'now':
      return d;
    case 'today':
    case 'start_day':
      return day;
    case 'start_week':
      return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000);
    case 'start_month':
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
    case 'start_year':
      return new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
    default:
      return undefined;
  }
}

/** A literal as the kind of the value it is compared with: numbers, ISO dates, text. */
function normalize(value: Prim, kind: Kind, now: number): Prim {
  if (kind === 'number') {
    const n = typeof value === 'number' ? value : Number(value);
    return typeof value === 'string' && (value.trim() === '' || Number.isNaN(n)) ? value : n;
  }
  if (kind === 'date' || kind === 'datetime') {
    const text = String(value);
    const rel = relativeDate(text.toLowerCase(), now);
    const iso = rel ? rel.toISOString().replace(/\.\d{3}Z$/, 'Z') : text;
    if (kind === 'date') return /^\d{4}-\d{2}-\d{2}T/.test(iso) ? iso.slice(0, 10) : iso;
    return /^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T00:00:00Z` : iso;
  }
  return typeof value === 'number' ? String(value) : value;
}

function compare(a: Prim, b: Prim, op: string): boolean {
  if (typeof a !== typeof b) {
    a = String(a);
    b = String(b);
  }
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    default:
      return a >= b;
  }
}

const FLIP: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '=': '=', '!=': '!=' };

function compileCmp(node: Extract<EqlNode, { kind: 'cmp' }>, schema: EqlSchema): EqlPredicate {
  let left = compileOperand(node.left, schema);
  let right = compileOperand(node.right, schema);
  let op = node.op;
  if (left.kind === 'literal' && right.kind !== 'literal') {
    [left, right] = [right, left];
    op = FLIP[op];
  }
  if (left.kind === 'literal' && right.kind === 'literal') {
    const result = compare(left.value, right.value, op);
    return () => result;
  }
  const l = left as Compiled;
  if (right.kind === 'literal') {
    const value = normalize(right.value, l.kind, schema.now);
    return (row) => {
      const values = l.get(row);
      if (values.length === 0) return null;
      return values.some((v) => compare(v, value, op));
    };
  }
  const r = right as Compiled;
  return (row) => {
    const a = l.get(row);
    const b = r.get(row);
    if (a.length === 0 || b.length === 0) return null;
    return a.some((x) => b.some((y) => compare(x, y, op)));
  };
}

function likeRegex(pattern: string): RegExp {
  let source = '';
  for (const c of pattern) {
    if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

function compileSet(
  operand: Operand,
  schema: EqlSchema,
  negated: boolean,
  test: (kind: Kind) => (v: Prim) => boolean,
): EqlPredicate {
  const o = compileOperand(operand, schema);
  if (o.kind === 'literal') {
    const result = test('text')(o.value) !== negated;
    return () => result;
  }
  const matches = test(o.kind);
  return (row) => {
    const values = o.get(row);
    if (values.length === 0) return null;
    return values.some((v) => matches(v) !== negated);
  };
}

export function compileEql(node: EqlNode, schema: EqlSchema): EqlPredicate {
  switch (node.kind) {
    case 'and': {
      const l = compileEql(node.left, schema);
      const r = compileEql(node.right, schema);
      return (row) => {
        const a = l(row);
        if (a === false) return false;
        const b = r(row);
        if (b === false) return false;
        return a === null || b === null ? null : true;
      };
    }
    case 'or': {
      const l = compileEql(node.left, schema);
      const r = compileEql(node.right, schema);
      return (row) => {
        const a = l(row);
        if (a === true) return true;
        const b = r(row);
        if (b === true) return true;
        return a === null || b === null ? null : false;
      };
    }
    case 'not': {
      const inner = compileEql(node.expr, schema);
      return (row) => {
        const v = inner(row);
        return v === null ? null : !v;
      };
    }
    case 'cmp':
      return compileCmp(node, schema);
    case 'in':
      return compileSet(node.operand, schema, node.negated, (kind) => {
        const set = new Set(node.list.map((v) => normalize(v, kind, schema.now)));
        return (v) => set.has(v) || (typeof v === 'number' && set.has(String(v)));
      });
    case 'like': {
      const re = likeRegex(node.pattern);
      return compileSet(node.operand, schema, node.negated, () => (v) => re.test(String(v)));
    }
    case 'null': {
      const o = compileOperand(node.operand, schema);
      if (o.kind === 'literal') return () => node.negated;
      return (row) => (o.get(row).length === 0) !== node.negated;
    }
  }
}

/** Parses and compiles a filter; throws EqlError with a message for the 400 answer. */
export function eqlPredicate(
  filter: string,
  schema: EqlSchema,
): { predicate: EqlPredicate; mentionsDeleted: boolean; hints: EqualityHint[] } {
  const node = parseEql(filter);
  return { predicate: compileEql(node, schema), mentionsDeleted: mentionsDeleted(node), hints: equalityHints(node) };
}
