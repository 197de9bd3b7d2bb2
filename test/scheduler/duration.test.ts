import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/model/duration.js';

const HINT = 'expected numbers with units (ms, s, m, h, d) such as 30s, 5m or 1h30m';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['0s', 0],
    // The schema pattern allows repeated and unordered units; they add up.
    ['1h1h', 7_200_000],
    ['30m1h', 5_400_000],
    ['007s', 7_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'it is empty'],
    ['30', 'number 30 has no unit'],
    ['m', 'unit "m" has no number before it'],
    ['5x', 'unknown unit "x"'],
    ['5M', 'unknown unit "M"'],
    ['5min', 'unknown unit "min"'],
    ['1h30', 'number 30 has no unit'],
    [' 5m', 'unexpected character " " at position 1'],
    ['5m ', 'unexpected character " " at position 3'],
    ['1.5h', 'unexpected character "." at position 2'],
    ['-5m', 'unexpected character "-" at position 1'],
    ['99999999999999999999d', 'it is too large'],
  ])('%j is refused: %s', (text, problem) => {
    expect(() => parseDuration(text)).toThrow(new Error(`invalid duration "${text}": ${problem}; ${HINT}`));
  });

  it('refuses a value that is not a string', () => {
    expect(() => parseDuration(30 as unknown as string)).toThrow(
      new Error(`invalid duration 30: not a string; ${HINT}`),
    );
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1_500, '1s500ms'],
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [90_061_001, '1d1h1m1s1ms'],
    [1_000.4, '1s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 60_000, 3_599_999, 5_400_000, 172_800_001]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  it('refuses negative and non-finite values', () => {
    expect(() => formatDuration(-1)).toThrow(new RangeError('cannot format -1 as a duration: must be >= 0'));
    expect(() => formatDuration(Number.NaN)).toThrow(new RangeError('cannot format NaN as a duration: must be >= 0'));
  });
});
