/**
 * Durations as the schemas write them (`30s`, `5m`, `1h30m`, `250ms`, `2d`; schemas/common.json#/definitions/duration).
 * parseDuration accepts exactly what the schema pattern `^([0-9]+(ms|s|m|h|d))+$` accepts, so a value that passed
 * validation always parses and a value the validator refuses never does.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Largest to smallest, for formatDuration. */
const FORMAT_UNITS: readonly Unit[] = ['d', 'h', 'm', 's', 'ms'];

const EXPECTED = 'expected numbers with units (ms, s, m, h, d) such as 30s, 5m or 1h30m';

/** Milliseconds in a duration such as `1h30m`. Throws an Error that names the input and the problem. */
export function parseDuration(s: string): number {
  if (typeof s !== 'string') throw new Error(`invalid duration ${String(s)}: not a string; ${EXPECTED}`);
  function fail(problem: string): never {
    throw new Error(`invalid duration "${s}": ${problem}; ${EXPECTED}`);
  }
  if (s.length === 0) fail('it is empty');

  let total = 0;
  let i = 0;
  while (i < s.length) {
    const digitsStart = i;
    while (i < s.length && s[i] >= '0' && s[i] <= '9') i++;
    const digits = s.slice(digitsStart, i);
    const unitStart = i;
    // Any letters, so that `5M` or `5min` is reported as an unknown unit rather than a stray character.
    while (i < s.length && /[A-Za-z]/.test(s[i])) i++;
    const unit = s.slice(unitStart, i);

    if (digits === '' && unit === '') fail(`unexpected character "${s[i]}" at position ${i + 1}`);
    if (digits === '') fail(`unit "${unit}" has no number before it`);
    if (unit === '') {
      if (i < s.length) fail(`unexpected character "${s[i]}" at position ${i + 1}`);
      fail(`number ${digits} has no unit`);
    }
    if (!Object.hasOwn(UNIT_MS, unit)) fail(`unknown unit "${unit}"`);
    total += Number(digits) * UNIT_MS[unit as Unit];
  }
  // Beyond 2^53 the sum stops being exact, and no schedule or timeout needs 285 000 years.
  if (!Number.isSafeInteger(total)) fail('it is too large');
  return total;
}

/** The shortest schema duration for a whole number of milliseconds: 5_400_000 → `1h30m`, 0 → `0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format ${ms} as a duration: must be >= 0`);
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of FORMAT_UNITS) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}
