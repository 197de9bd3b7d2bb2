/**
 * Label selectors as kubectl reads them (`-l team=hr,tier!=gold,owner,!legacy`): equality, inequality, set
 * membership (`env in (test,prod)`, `env notin (dev)`), existence and absence, all of them required.
 */
import { UsageError } from './errors.js';

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on the commas that are not inside `( )`. */
function clauses(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((c) => c.trim()).filter(Boolean);
}

function requirement(clause: string): Requirement {
  let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(clause);
  if (m) {
    const [, key, op, list] = m;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in' ? (l) => key in l && values.has(l[key]) : (l) => !(key in l) || !values.has(l[key]);
  }
  m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(clause);
  if (m) {
    const [, key, op, value] = m;
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = /^(!?)([\w./-]+)$/.exec(clause);
  if (m) {
    const [, not, key] = m;
    return not ? (l) => !(key in l) : (l) => key in l;
  }
  throw new UsageError(`invalid label selector "${clause}": use key=value, key!=value, key, !key or key in (a,b)`);
}

/** A predicate over a resource's labels; every clause must hold. */
export function parseSelector(selector: string): (labels: Record<string, string> | undefined) => boolean {
  const reqs = clauses(selector).map(requirement);
  return (labels) => reqs.every((r) => r(labels ?? {}));
}
