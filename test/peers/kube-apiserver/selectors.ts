/**
 * Label selectors (equality- and set-based: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
 * `a>1`, `a<1`) and field selectors (`metadata.name=x`, `metadata.namespace!=y`, plus a type's own field labels)
 * as list and watch requests use them. Parse errors are 400 BadRequest, as on the real server.
 */
import type { KubeObject } from './json.js';
import type { ResourceType } from './resources.js';
import { errors } from './status.js';

type Predicate = (o: KubeObject) => boolean;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!' | '=' | '!=' | '>' | '<';
  values: string[];
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function parseRequirement(raw: string): Requirement {
  let m = /^!\s*([^\s!=<>(),]+)$/.exec(raw);
  if (m) return { key: m[1], op: '!', values: [] };
  m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(raw);
  if (m) {
    return {
      key: m[1],
      op: m[2] as 'in' | 'notin',
      values: m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0),
    };
  }
  m = /^([^\s!=<>(),]+)\s*(==|=|!=|>|<)\s*([^\s!=<>(),]*)$/.exec(raw);
  if (m) {
    const op = m[2] === '==' ? '=' : (m[2] as Requirement['op']);
    if ((op === '>' || op === '<') && !/^-?\d+$/.test(m[3])) {
      throw errors.badRequest(
        `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: ${m[3]}`,
      );
    }
    return { key: m[1], op, values: [m[3]] };
  }
  m = /^([^\s!=<>(),]+)$/.exec(raw);
  if (m) return { key: m[1], op: 'exists', values: [] };
  throw errors.badRequest(`unable to parse requirement: found '${raw}', expected: identifier`);
}

export function labelSelector(selector: string | null): Predicate {
  if (!selector) return () => true;
  const reqs = splitTopLevel(selector).map(parseRequirement);
  return (o) => {
    const labels = o.metadata.labels ?? {};
    return reqs.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'exists':
          return has;
        case '!':
          return !has;
        case '=':
          return has && v === r.values[0];
        case '!=':
          return !has || v !== r.values[0];
        case 'in':
          return has && r.values.includes(v);
        case 'notin':
          return !has || !r.values.includes(v);
        case '>':
          return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]);
        case '<':
          return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]);
      }
      return false;
    });
  };
}

/** Splits on unescaped commas; `\,` `\=` `\\` are escapes in field selector values. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === sep) {
      out.push(cur);
      cur = '';
    } else cur += s[i];
  }
  out.push(cur);
  return out;
}

const unescapeValue = (s: string): string => s.replace(/\\(.)/g, '$1');

export function fieldSelector(selector: string | null, type: ResourceType): Predicate {
  if (!selector) return () => true;
  const preds: Predicate[] = [];
  for (const term of splitEscaped(selector, ',').filter((t) => t.length > 0)) {
    const m = /^([^=!]+?)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, field, op, rawValue] = m;
    const value = unescapeValue(rawValue);
    let get: (o: KubeObject) => string | undefined;
    if (field === 'metadata.name') get = (o) => o.metadata.name;
    else if (field === 'metadata.namespace') get = (o) => o.metadata.namespace ?? '';
    else if (type.fieldLabels[field]) get = type.fieldLabels[field];
    else if (Object.keys(type.fieldLabels).length === 0) {
      throw errors.badRequest(`"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    } else throw errors.badRequest(`field label not supported: ${field}`);
    preds.push(op === '!=' ? (o) => get(o) !== value : (o) => get(o) === value);
  }
  return (o) => preds.every((p) => p(o));
}
