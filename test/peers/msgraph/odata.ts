/**
 * The simulator's own OData `$filter` subset (written apart from the connector's evaluator on purpose, so that
 * a shared bug cannot make both agree): comparisons `eq ne gt ge lt le`, `in (...)`, `startsWith`, `endsWith`,
 * `not(...)`, `and`, `or`, parentheses, literals 'text' ('' escapes a quote), true, false, null, numbers.
 * Properties may be nested with `/` (onPremisesExtensionAttributes/extensionAttribute1).
 * `advanced` says whether Graph would want `ConsistencyLevel: eventual` and `$count=true` for it.
 */

export type Predicate = (o: Record<string, unknown>) => boolean;

export interface ParsedFilter {
  test: Predicate;
  /** The first operator that makes this an advanced query (endsWith, ne, not), if any. */
  advanced?: string;
}

export class FilterSyntaxError extends Error {}

type Tok = { t: 'id' | 'str' | 'num' | 'op' | 'punct'; v: string };

function lex(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ') {
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError('unterminated string literal');
        if (text[i] === "'" && text[i + 1] === "'") {
          s += "'";
          i += 2;
        } else if (text[i] === "'") {
          i++;
          break;
        } else s += text[i++];
      }
      out.push({ t: 'str', v: s });
    } else if ('(),'.includes(c)) {
      out.push({ t: 'punct', v: c });
      i++;
    } else {
      const m = /^[A-Za-z0-9_./@-]+/.exec(text.slice(i));
      if (!m) throw new FilterSyntaxError(`Syntax error at position ${i} in '${text}'.`);
      const v = m[0];
      i += v.length;
      if (/^-?\d+(\.\d+)?$/.test(v)) out.push({ t: 'num', v });
      else out.push({ t: 'id', v });
    }
  }
  return out;
}

const get = (o: Record<string, unknown>, path: string): unknown =>
  path
    .split('/')
    .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

export function parseFilter(text: string): ParsedFilter {
  const toks = lex(text);
  let pos = 0;
  let advanced: string | undefined;
  const peek = () => toks[pos];
  const take = () => {
    const t = toks[pos++];
    if (!t) throw new FilterSyntaxError(`Syntax error: unexpected end of '${text}'.`);
    return t;
  };
  const expect = (v: string) => {
    const t = take();
    if (t.v !== v) throw new FilterSyntaxError(`Syntax error: '${v}' expected at '${t.v}' in '${text}'.`);
  };
  const literal = (): unknown => {
    const t = take();
    if (t.t === 'str') return t.v;
    if (t.t === 'num') return Number(t.v);
    if (t.v === 'true') return true;
    if (t.v === 'false') return false;
    if (t.v === 'null') return null;
    throw new FilterSyntaxError(`Syntax error: literal expected at '${t.v}' in '${text}'.`);
  };
  const lc = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
  const primary = (): Predicate => {
    const t = take();
    if (t.v === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (t.v === 'not') {
      advanced ??= 'not';
      expect('(');
      const inner = or();
      expect(')');
      return (o) => !inner(o);
    }
    if (t.v === 'startsWith' || t.v === 'endsWith') {
      if (t.v === 'endsWith') advanced ??= 'endsWith';
      expect('(');
      const prop = take().v;
      expect(',');
      const value = String(literal()).toLowerCase();
      expect(')');
      return (o) => {
        const v = get(o, prop);
        if (typeof v !== 'string') return false;
        return t.v === 'startsWith' ? v.toLowerCase().startsWith(value) : v.toLowerCase().endsWith(value);
      };
    }
    if (t.t !== 'id') throw new FilterSyntaxError(`Syntax error at '${t.v}' in '${text}'.`);
    const prop = t.v;
    const op = take().v;
    if (op === 'in') {
      expect('(');
      const values: unknown[] = [literal()];
      while (peek()?.v === ',') {
        take();
        values.push(literal());
      }
      expect(')');
      const set = values.map(lc);
      return (o) => set.includes(lc(get(o, prop)));
    }
    const value = literal();
    if (op === 'ne') advanced ??= 'ne';
    const cmp = (o: Record<string, unknown>): number | undefined => {
      const v = lc(get(o, prop)) as string | number;
      const w = lc(value) as string | number;
      if (v === undefined || v === null || w === null) return undefined;
      return v < w ? -1 : v > w ? 1 : 0;
    };
    switch (op) {
      case 'eq':
        return (o) => lc(get(o, prop) ?? null) === lc(value);
      case 'ne':
        return (o) => lc(get(o, prop) ?? null) !== lc(value);
      case 'gt':
        return (o) => (cmp(o) ?? 0) > 0;
      case 'ge':
        return (o) => (cmp(o) ?? -1) >= 0;
      case 'lt':
        return (o) => (cmp(o) ?? 0) < 0;
      case 'le':
        return (o) => (cmp(o) ?? 1) <= 0;
      default:
        throw new FilterSyntaxError(`Invalid filter clause: unknown operator '${op}'.`);
    }
  };
  const and = (): Predicate => {
    let left = primary();
    while (peek()?.v === 'and') {
      take();
      const [l, r] = [left, primary()];
      left = (o) => l(o) && r(o);
    }
    return left;
  };
  function or(): Predicate {
    let left = and();
    while (peek()?.v === 'or') {
      take();
      const [l, r] = [left, and()];
      left = (o) => l(o) || r(o);
    }
    return left;
  }
  const test = or();
  if (pos < toks.length) throw new FilterSyntaxError(`Syntax error at '${toks[pos].v}' in '${text}'.`);
  return { test, advanced };
}
