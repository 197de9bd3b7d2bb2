/**
 * Values at a path of a response body (value and error markers, next links, page tokens, totals, login
 * tokens). Paths use the mapping-path syntax without `$.`.
 */
import { ExtractError } from '../../model/errors.js';
import { PathError, readPath } from '../../model/mapping-path.js';

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads `path` from a body. A key that is literally the whole path is tried first, so that names such as
 * `@odata.nextLink` work without the bracket notation `['@odata.nextLink']` the path syntax requires.
 * `field` names the setting in messages (a bad path fails the extract).
 */
export function readMarker(body: unknown, path: string, field: string): unknown {
  if (isRecord(body) && Object.hasOwn(body, path)) return body[path];
  try {
    return readPath(body, path);
  } catch (e) {
    if (e instanceof PathError) throw new ExtractError(`${field}: ${e.message}`);
    throw e;
  }
}
