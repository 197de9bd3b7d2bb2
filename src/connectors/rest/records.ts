/**
 * What a response body holds: the records (after the value marker), an error (the error marker), or a
 * value at a path (next links, page tokens, login tokens). Paths use the mapping-path syntax without `$.`.
 */
import { excerpt } from '../../transport/scrub.js';
import { isRecord, readMarker } from '../kit/markers.js';
import { ExtractError } from '../types.js';

export { isRecord, readMarker };

/** Whether an error-marker value means "there was an error": null, false, [] and {} mean there was none. */
function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) return Object.keys(value).length > 0;
  return true;
}

/** Fails when the error marker is present in a response (seed: an error marker present fails the run). */
export function checkErrorMarker(body: unknown, marker: string | undefined, where: string): void {
  if (!marker) return;
  const value = readMarker(body, marker, 'spec.source.rest.errorMarker');
  if (!isPresent(value)) return;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  throw new ExtractError(`response from ${where} has an error at "${marker}" (errorMarker): ${excerpt(text)}`);
}

/**
 * The records of a main-query response. No content (204 or an empty body) is an empty page; otherwise the
 * array must be at the value marker, or be the body itself when there is no marker.
 */
export function selectRows(body: unknown, valueMarker: string | undefined, where: string): unknown[] {
  if (body === null) return [];
  if (!valueMarker) {
    if (Array.isArray(body)) return body;
    throw new ExtractError(
      `response from ${where} is ${describeType(body)}, not an array of records; ` +
        'set spec.source.rest.valueMarker to the property that holds the records',
    );
  }
  const rows = readMarker(body, valueMarker, 'spec.source.rest.valueMarker');
  if (rows === undefined) {
    throw new ExtractError(`response from ${where} has no "${valueMarker}" (valueMarker)`);
  }
  if (rows === null) return [];
  if (!Array.isArray(rows)) {
    throw new ExtractError(
      `"${valueMarker}" (valueMarker) in the response from ${where} is ${describeType(rows)}, not an array`,
    );
  }
  return rows;
}

/**
 * The value a subquery contributes to a row: the value marker's content when the response is an object
 * holding it (APIs usually wrap lists and details alike), else the body itself (a plain list or object).
 */
export function selectSubqueryValue(body: unknown, valueMarker: string | undefined): unknown {
  if (valueMarker && isRecord(body)) {
    const value = readMarker(body, valueMarker, 'spec.source.rest.valueMarker');
    if (value !== undefined) return value;
  }
  return body;
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}
