/**
 * (restCall of the REST and SCIM types) The `input` of a restCall invocation (digest §4.9: Action, REST URL, Rest Body), checked before anything
 * else happens. Unknown fields are refused: a misspelt `Url` must not turn a DELETE of one user into a DELETE
 * of the whole collection at the base URL.
 */
import { InvalidInvocationError } from '../../types.js';

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type CallMethod = (typeof METHODS)[number];

const KNOWN = new Set(['method', 'url', 'body']);

export interface CallInput {
  method: CallMethod;
  /** URL template: a path with an optional query string, an absolute URL on the connector's origin, or ''. */
  url: string;
  /** Body template (a JSON text), or undefined when the call sends no body. */
  body?: string;
}

export function readInput(input: Record<string, unknown>): CallInput {
  const unknown = Object.keys(input).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) {
    throw new InvalidInvocationError(
      `unknown input field(s) ${unknown.map((k) => `"${k}"`).join(', ')}: restCall takes method, url and body`,
    );
  }
  const method = typeof input.method === 'string' ? input.method.toUpperCase() : undefined;
  if (!method || !(METHODS as readonly string[]).includes(method)) {
    throw new InvalidInvocationError(`input.method must be one of ${METHODS.join(', ')}`);
  }
  const url = input.url ?? '';
  if (typeof url !== 'string') throw new InvalidInvocationError('input.url must be a string such as /users/$id$');
  return { method: method as CallMethod, url, body: readBody(input.body) };
}

/** A string is a template; an object or array is serialized (its string values can still hold tokens). */
function readBody(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body.trim() === '' ? undefined : body;
  if (typeof body === 'object') return JSON.stringify(body);
  throw new InvalidInvocationError('input.body must be a JSON text (a string) or an object');
}
