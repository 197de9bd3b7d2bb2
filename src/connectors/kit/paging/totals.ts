/**
 * Totals a source announces on its first page (`X-Total-Count`, a count in the body such as `meta.total`,
 * Graph's `@odata.count`, SCIM's `totalResults`). The loop compares the records it read with the total:
 * a run that read a different number did not see the source as it announced itself, so its extract is
 * not complete.
 */
import { headerValue } from '../../../transport/http-client.js';
import { readMarker } from '../markers.js';
import type { PageResponse } from './strategy.js';

/** A total read from a response, with how admins name where it came from; or why a configured one is missing. */
export type TotalReading = { count: number; from: string } | { missing: string };

/** Reads a total from the first response; undefined when the source announces none. */
export type TotalReader = (first: PageResponse) => TotalReading | undefined;

/** A non-negative integer, from a number or a string of digits. */
function count(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** A total in a response header (`X-Total-Count`); a missing or non-numeric header announces nothing. */
export function headerTotal(name: string): TotalReader {
  return (first) => {
    const n = count(headerValue(first.headers, name));
    return n === undefined ? undefined : { count: n, from: name };
  };
}

/**
 * A total at a path of the first body (mapping-path syntax without `$.`). Configured, it is required:
 * a first page without a number there is reported as missing. `field` names the setting in messages.
 */
export function bodyTotal(path: string, field: string): TotalReader {
  return (first) => {
    const value = readMarker(first.body, path, field);
    const n = count(value);
    if (n !== undefined) return { count: n, from: path };
    return { missing: `the first page has no record count at "${path}" (${field})` };
  };
}

/** The first reader that finds a total. */
export function firstTotal(...readers: TotalReader[]): TotalReader {
  return (first) => {
    for (const read of readers) {
      const reading = read(first);
      if (reading) return reading;
    }
    return undefined;
  };
}
