/** Date patterns for event calls: exact outputs of every supported letter, ISO parsing, and refusals. */
import { describe, expect, it } from 'vitest';
import {
  compileDateFormat,
  DateFormatError,
  type DateTimeParts,
  dateValueFormatter,
  formatDate,
  parseIsoValue,
} from '../../../src/connectors/kit/date-format.js';

const at = (value: string): DateTimeParts => {
  const iso = parseIsoValue(value);
  if (!iso) throw new Error(`not an ISO value: ${value}`);
  return iso.parts;
};

describe('parseIsoValue', () => {
  it('reads dates and date-times with their offset, fraction as written', () => {
    expect(parseIsoValue('2024-03-05')).toEqual({
      kind: 'date',
      parts: { year: 2024, month: 3, day: 5, hour: 0, minute: 0, second: 0, fraction: '', offsetMinutes: 0 },
    });
    expect(parseIsoValue('2024-03-05T07:08:09.123456-05:30')).toEqual({
      kind: 'dateTime',
      parts: { year: 2024, month: 3, day: 5, hour: 7, minute: 8, second: 9, fraction: '123456', offsetMinutes: -330 },
    });
    expect(parseIsoValue('2024-03-05T07:08Z')?.parts).toMatchObject({ hour: 7, minute: 8, second: 0 });
    expect(parseIsoValue('2024-03-05T07:08:09+0200')?.parts.offsetMinutes).toBe(120);
    expect(parseIsoValue('2024-03-05T07:08:09+02')?.parts.offsetMinutes).toBe(120);
  });

  it.each([
    'hello',
    '2024-3-5',
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:60:00Z',
    '2024-01-01 10:00:00',
    '2024-01-01T10:00:00+19:00',
    '12024-01-01',
    ' 2024-01-01',
    '2024-01-01T10',
  ])('leaves %j alone (not an ISO date)', (value) => {
    expect(parseIsoValue(value)).toBeUndefined();
  });

  it('knows leap years', () => {
    expect(parseIsoValue('2024-02-29')?.kind).toBe('date');
    expect(parseIsoValue('2000-02-29')?.kind).toBe('date');
    expect(parseIsoValue('1900-02-29')).toBeUndefined();
  });
});

describe('formatDate', () => {
  const p = at('2024-03-05T07:08:09.123+02:00');
  const pm = at('2024-12-31T23:59:58.5Z');

  it.each([
    ['yyyy-MM-dd', '2024-03-05'],
    ['dd.MM.yyyy', '05.03.2024'],
    ['d.M.yy', '5.3.24'],
    ['y', '2024'],
    ['MMM d, yyyy', 'Mar 5, 2024'],
    ['MMMM', 'March'],
    ['EEE EEEE', 'Tue Tuesday'],
    ['HH:mm:ss', '07:08:09'],
    ['H:m:s', '7:8:9'],
    ['hh:mm a', '07:08 AM'],
    ['h a', '7 AM'],
    ['S SS SSS SSSS', '1 12 123 1230'],
    ['XXX', '+02:00'],
    ['XX', '+0200'],
    ['X', '+02'],
    ['Z', '+0200'],
    ['xxx', '+02:00'],
    ["yyyy-MM-dd'T'HH:mm:ssXXX", '2024-03-05T07:08:09+02:00'],
    ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", '2024-03-05T07:08:09.123+02:00'],
    ["'at' HH 'o''clock'", "at 07 o'clock"],
    ["''yyyy''", "'2024'"],
    ['yyyyMMdd', '20240305'],
    ['[yyyy/MM/dd]', '[2024/03/05]'],
  ])('%s → %s', (pattern, expected) => {
    expect(formatDate(p, pattern)).toBe(expected);
  });

  it('UTC: X writes Z, Z and x write +0000; noon and midnight on the 12-hour clock', () => {
    expect(formatDate(pm, 'XXX|XX|X|Z|xxx|x')).toBe('Z|Z|Z|+0000|+00:00|+00');
    expect(formatDate(pm, 'hh:mm a SSS')).toBe('11:59 PM 500');
    expect(formatDate(at('2024-01-01T00:30:00Z'), 'h:mm a')).toBe('12:30 AM');
    expect(formatDate(at('2024-01-01T12:30:00Z'), 'h:mm a')).toBe('12:30 PM');
  });

  it('negative and half-hour offsets', () => {
    const india = at('2024-01-01T10:00:00+05:30');
    expect(formatDate(india, 'XXX XX X Z')).toBe('+05:30 +0530 +0530 +0530');
    const ny = at('2024-01-01T10:00:00-05:00');
    expect(formatDate(ny, 'XXX X')).toBe('-05:00 -05');
  });

  it('pads years below 1000 and cuts yy to two digits', () => {
    const old = at('0987-06-05');
    expect(formatDate(old, 'yyyy yy y')).toBe('0987 87 987');
  });

  it.each(['yyyy-MM-dd Q', 'G yyyy', 'XXXX', 'ZZZZ', "yyyy 'open"])('refuses %j', (pattern) => {
    expect(() => compileDateFormat(pattern)).toThrow(DateFormatError);
  });

  it('names the bad letters and the pattern', () => {
    expect(() => compileDateFormat('yyyy-qq')).toThrow(
      'unsupported pattern letters "qq" in date format "yyyy-qq"; use y, M, d, E, H, h, m, s, S, a, X, x, Z and put literal text in single quotes (\'T\')',
    );
  });
});

describe('dateValueFormatter', () => {
  it("defaults: yyyy-MM-dd and yyyy-MM-dd'T'HH:mm:ssXXX (UTC without offset, offset kept)", () => {
    const f = dateValueFormatter();
    expect(f('2024-03-05')).toBe('2024-03-05');
    expect(f('2024-03-05T10:20:30.999Z')).toBe('2024-03-05T10:20:30Z');
    expect(f('2024-03-05T10:20:30')).toBe('2024-03-05T10:20:30Z');
    expect(f('2024-03-05T10:20:30+02:00')).toBe('2024-03-05T10:20:30+02:00');
    expect(f('not a date')).toBe('not a date');
    expect(f('2024-02-30')).toBe('2024-02-30');
  });

  it('custom formats for dates and date-times', () => {
    const f = dateValueFormatter({ dateFormat: 'dd/MM/yyyy', dateTimeFormat: 'yyyyMMddHHmmss' });
    expect(f('2024-03-05')).toBe('05/03/2024');
    expect(f('2024-03-05T10:20:30-08:00')).toBe('20240305102030');
  });

  it('a bad pattern fails when the formatter is made, not per value', () => {
    expect(() => dateValueFormatter({ dateFormat: 'yyyy-Q' })).toThrow(DateFormatError);
  });

  it('caches compiled patterns', () => {
    expect(compileDateFormat('dd.MM.yyyy')).toBe(compileDateFormat('dd.MM.yyyy'));
  });
});
