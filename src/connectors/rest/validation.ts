/**
 * The REST type's own validation rules, beyond what schemas/connectors/rest.json can say: credentials
 * written inline (in headers or in a URL's user info) and subquery templates. Messages never repeat a
 * credential's value.
 */

import type { Connector, Task } from '../../model/resources.js';
import { eventQueryFindings } from '../kit/event-call/validate-query.js';
import type { TypeFinding } from '../types.js';

type Path = Array<string | number>;

/** How to send login credentials without writing them: `${key}` placeholders filled from the Secret. */
const LOGIN_FIX = `put the credentials in the Secret that auth.secretRef names and send them through $\{key} placeholders in dynamicToken.body`;

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Header names that carry credentials whatever their value looks like. */
const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie)$|api[-_]?key|token|secret|passw(or)?d|credential|session/i;
/** Values shaped like an Authorization credential, in any header: `Bearer eyJ...`, `Basic YWRt...`. */
const CREDENTIAL_VALUE = /^\s*(bearer|basic|token|digest|negotiate|apikey|sharedkey)\s+\S+/i;

/** Where a credential of this header goes instead: the auth block and the Secret keys it reads. */
function authHint(name: string, value: string): string {
  const scheme = /^\s*(\S+)\s/.exec(value)?.[1]?.toLowerCase();
  if (/^authorization$/i.test(name) && scheme === 'bearer') {
    return 'set auth: {type: bearer, secretRef: {name: <secret>}} and put the token under key token in that Secret';
  }
  if (/^authorization$/i.test(name) && scheme === 'basic') {
    return 'set auth: {type: basic, secretRef: {name: <secret>}} and put keys username and password in that Secret';
  }
  return `set auth: {type: header, headerName: ${name}, secretRef: {name: <secret>}} and put the header value under key value in that Secret`;
}

function inlineHeaderFindings(headers: unknown, path: Path, where: 'connector' | 'login' | 'task'): TypeFinding[] {
  if (!isMap(headers)) return [];
  const out: TypeFinding[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string' || value.trim() === '') continue;
    if (!CREDENTIAL_HEADER.test(name) && !CREDENTIAL_VALUE.test(value)) continue;
    const fix =
      where === 'login'
        ? `, ${LOGIN_FIX}`
        : `${where === 'task' ? " and, on the task's Connector, " : ', '}${authHint(name, value)}`;
    out.push({
      path: [...path, name],
      at: 'key',
      severity: 'error',
      message: `header "${name}" holds a credential written inline; secrets are never written in resources: remove the header${fix}`,
    });
  }
  return out;
}

function userinfoFinding(url: unknown, path: Path, fix: string): TypeFinding[] {
  if (typeof url !== 'string') return [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  if (parsed.username === '' && parsed.password === '') return [];
  return [
    {
      path,
      severity: 'error',
      message: `the URL holds credentials in its user info (user:password@host); secrets are never written in resources: remove them from the URL, ${fix}`,
    },
  ];
}

export function validateRestConnector(connector: Connector): TypeFinding[] {
  const rest: unknown = connector.spec.rest;
  if (!isMap(rest)) return [];
  const base: Path = ['spec', 'rest'];
  const out: TypeFinding[] = [
    ...userinfoFinding(
      rest.baseUrl,
      [...base, 'baseUrl'],
      'set auth: {type: basic, secretRef: {name: <secret>}} and put keys username and password in that Secret',
    ),
    ...inlineHeaderFindings(rest.headers, [...base, 'headers'], 'connector'),
  ];
  const dynamicToken = isMap(rest.auth) && isMap(rest.auth.dynamicToken) ? rest.auth.dynamicToken : undefined;
  if (dynamicToken) {
    const at: Path = [...base, 'auth', 'dynamicToken'];
    out.push(
      ...userinfoFinding(dynamicToken.loginUrl, [...at, 'loginUrl'], LOGIN_FIX),
      ...inlineHeaderFindings(dynamicToken.headers, [...at, 'headers'], 'login'),
    );
  }
  return out;
}

/** A subquery placeholder is one first-level attribute name: {id}, {user_id}, {employee-number}. */
const PLACEHOLDER = /\{([^{}]*)\}/g;
const FIRST_LEVEL = /^[A-Za-z_@][A-Za-z0-9_@-]*$/;

/** What is wrong with a subquery template, or undefined. */
export function checkSubquery(template: string): string | undefined {
  if (!template.startsWith('/')) return `subquery "${template}" must be a path starting with /`;
  // What is left after taking out well-formed {name} placeholders must have no braces.
  if (/[{}]/.test(template.replace(PLACEHOLDER, 'x'))) {
    return `subquery "${template}" has unbalanced { }: write placeholders as {attribute}`;
  }
  if (/\$\{|\$[A-Za-z_]+\$/.test(template)) {
    return `subquery "${template}" uses \${...} or $...$; subquery placeholders are written {attribute}`;
  }
  const variables: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const attr = m[1].trim();
    if (attr === '') return `subquery "${template}" has an empty placeholder {}`;
    if (/[.[\]/]/.test(attr)) {
      return `subquery "${template}": {${attr}} reaches more than one level; subqueries may only use first-level attributes of the main record, such as {id}`;
    }
    if (!FIRST_LEVEL.test(attr)) return `subquery "${template}": {${attr}} is not an attribute name`;
    if (!variables.includes(attr)) variables.push(attr);
  }
  // Seeds: "more than 1 variable in {}" is a multilevel subquery, which they do not support.
  if (variables.length > 1) {
    return `subquery "${template}" has ${variables.length} variables (${variables.map((v) => `{${v}}`).join(', ')}); one level of subquery takes one variable of the main record`;
  }
  return undefined;
}

export function validateRestTask(task: Task): TypeFinding[] {
  const spec: unknown = task.spec;
  if (!isMap(spec)) return [];
  const out: TypeFinding[] = [];
  const source = isMap(spec.source) && isMap(spec.source.rest) ? spec.source.rest : undefined;
  if (source) {
    const at: Path = ['spec', 'source', 'rest'];
    if (Array.isArray(source.subqueries)) {
      source.subqueries.forEach((sq, i) => {
        const problem = typeof sq === 'string' ? checkSubquery(sq) : undefined;
        if (problem) out.push({ path: [...at, 'subqueries', i], severity: 'error', message: problem });
      });
    }
    out.push(...inlineHeaderFindings(source.headers, [...at, 'headers'], 'task'));
  }
  if (isMap(spec.event)) out.push(...inlineHeaderFindings(spec.event.headers, ['spec', 'event', 'headers'], 'task'));
  out.push(...eventQueryFindings(task));
  return out;
}
