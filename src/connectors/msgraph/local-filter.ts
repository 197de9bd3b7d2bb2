/**
 * Delta rounds cannot filter like `/users` (only `id eq` works there), so an incremental task's usersFilter /
 * groupsFilter is evaluated here on each object the round returns. The subset is what Entra filters on
 * directory objects use most: `eq ne gt ge lt le`, `in (...)`, `startsWith`, `endsWith`, `not(...)`, `and`,
 * `or`, parentheses; literals 'text', true, false, null and numbers; properties nested with `/`. Strings
 * compare case-insensitively, as Entra does. What is outside it (lambda `any()`, functions, `$search`) is
 * refused at validation with the reason, never guessed at.
 */

type Node =
  | { op: 'and' | 'or'; left: Node; right: Node }
  | { op: 'not'; inner: Node }
  | { op: 'cmp'; cmp: string; prop: string; value: unknown }
  | { op: 'in'; prop: string; values: unknown[] }
  | { op: 'fn'; fn: 'startsWith' | 'endsWith'; prop: string; value: string };

export class LocalFilterError extends Error {}

export interface LocalFilter {
  /** Properties the filter reads (top-level names, for $select). */
  properties: string[];
  matches(o: Record<string, unknown>): boolean;
}

const TOKEN = /\s*(?:('(?:[^']|'')*')|(\()|(\))|(,)|([A-Za-z_][\w/.]*)|(-?\d+(?:\.\d+)?))/y;

function tokens(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new LocalFilterError(`cannot read the filter at "${text.slice(at, at + 20)}"`);
    out.push(m[0].trim());
  }
  return out;
}

export function compileLocalFilter(text: string): LocalFilter {
  const toks = tokens(text);
  let i = 0;
  const props = new Set<string>();
  const next = (): string => {
    const t = toks[i++];
    if (t === undefined) throw new LocalFilterError('the filter ends too early');
    return t;
  };
  const expect = (t: string): void => {
    const got = next();
    if (got !== t) throw new LocalFilterError(`"${t}" expected, found "${got}"`);
  };
  const literal = (): unknown => {
    const t = next();
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'null') return null;
    if (/^-?\d/.test(t)) return Number(t);
    throw new LocalFilterError(`a value was expected, found "${t}"`);
  };
  const property = (): string => {
    const t = next();
    if (!/^[A-Za-z_]/.test(t) || t.includes('(')) throw new LocalFilterError(`a property was expected, found "${t}"`);
    props.add(t.split('/')[0]);
    return t;
  };
  const primary = (): Node => {
    const t = next();
    if (t === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (t === 'not') {
      expect('(');
      const inner = or();
      expect(')');
      return { op: 'not', inner };
    }
    if (t === 'startsWith' || t === 'endsWith') {
      expect('(');
      const prop = property();
      expect(',');
      const value = literal();
      expect(')');
      if (typeof value !== 'string') throw new LocalFilterError(`${t} needs a text value`);
      return { op: 'fn', fn: t, prop, value };
    }
    if (toks[i] === '(') throw new LocalFilterError(`${t}() cannot be evaluated on delta results`);
    i--;
    const prop = property();
    const op = next();
    if (op === 'in') {
      expect('(');
      const values = [literal()];
      while (toks[i] === ',') {
        i++;
        values.push(literal());
      }
      expect(')');
      return { op: 'in', prop, values };
    }
    if (!['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(op)) {
      throw new LocalFilterError(`the operator "${op}" cannot be evaluated on delta results`);
    }
    return { op: 'cmp', cmp: op, prop, value: literal() };
  };
  const and = (): Node => {
    let left = primary();
    while (toks[i] === 'and') {
      i++;
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  function or(): Node {
    let left = and();
    while (toks[i] === 'or') {
      i++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  }
  const tree = or();
  if (i < toks.length) throw new LocalFilterError(`unexpected "${toks[i]}"`);
  return { properties: [...props], matches: (o) => evaluate(tree, o) };
}

const norm = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : (v ?? null));

function read(o: Record<string, unknown>, path: string): unknown {
  let v: unknown = o;
  for (const k of path.split('/')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function evaluate(n: Node, o: Record<string, unknown>): boolean {
  switch (n.op) {
    case 'and':
      return evaluate(n.left, o) && evaluate(n.right, o);
    case 'or':
      return evaluate(n.left, o) || evaluate(n.right, o);
    case 'not':
      return !evaluate(n.inner, o);
    case 'in': {
      const v = norm(read(o, n.prop));
      return n.values.some((w) => norm(w) === v);
    }
    case 'fn': {
      const v = read(o, n.prop);
      if (typeof v !== 'string') return false;
      const [a, b] = [v.toLowerCase(), n.value.toLowerCase()];
      return n.fn === 'startsWith' ? a.startsWith(b) : a.endsWith(b);
    }
    case 'cmp': {
      const [v, w] = [norm(read(o, n.prop)), norm(n.value)];
      if (n.cmp === 'eq') return v === w;
      if (n.cmp === 'ne') return v !== w;
      if (v === null || w === null) return false;
      const [x, y] = [v as string | number, w as string | number];
      if (n.cmp === 'gt') return x > y;
      if (n.cmp === 'ge') return x >= y;
      if (n.cmp === 'lt') return x < y;
      return x <= y;
    }
  }
}
