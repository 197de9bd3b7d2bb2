/**
 * Date and date-time values for event calls (digest §4.8: the task's `event.dateFormat` and `event.dateTimeFormat`).
 * Workflows send dates as ISO strings; the upstream API may want another shape, so a value that is an ISO date
 * (`2024-03-05`) or an ISO date-time (`2024-03-05T10:20:30.123+02:00`) is rewritten with a Java/LDML-style pattern.
 *
 * Supported pattern letters: y (yyyy, yy, y), M (M, MM, MMM, MMMM), d, E (EEE, EEEE), H, h, m, s, S (fraction,
 * one digit per letter), a (AM/PM), X/XX/XXX and x/xx/xxx (offsets; X writes `Z` for UTC), Z/ZZ/ZZZ (+HHmm).
 * Text in single quotes is literal, `''` is one quote, and other non-letters are copied. Any other letter is an
 * error, as in Java, so that a typo cannot silently produce a wrong date.
 *
 * Time zone: a value with an offset keeps its wall-clock time and offset (no conversion); a value without one is
 * taken as UTC. Patterns are compiled once and cached, because every invocation of a task formats with them.
 */

export const DEFAULT_DATE_FORMAT = 'yyyy-MM-dd';
export const DEFAULT_DATE_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ssXXX";

/** The fields of an ISO value as written, before any conversion. */
export interface DateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction-of-second digits as written (`123` for .123), '' when none. */
  fraction: string;
  /** Offset from UTC in minutes; 0 for `Z` and for values without an offset. */
  offsetMinutes: number;
}

export type IsoKind = 'date' | 'dateTime';

export type DateFormatter = (parts: DateTimeParts) => string;

/** A pattern that uses a letter this formatter does not know, or an unterminated quote. */
export class DateFormatError extends Error {}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Reads an ISO 8601 / RFC 3339 date or date-time string. Returns undefined for anything else, including
 * impossible dates such as 2023-02-29, which are then passed on unchanged rather than "corrected".
 */
export function parseIsoValue(value: string): { kind: IsoKind; parts: DateTimeParts } | undefined {
  // Cheap pre-check: most substituted values are not dates, and this runs for every one of them.
  if (value.length < 10 || value.length > 40 || value.charCodeAt(4) !== 45 /* - */) return undefined;
  const kind: IsoKind = value.length === 10 ? 'date' : 'dateTime';
  const m = kind === 'date' ? ISO_DATE.exec(value) : ISO_DATE_TIME.exec(value);
  if (!m) return undefined;
  const parts: DateTimeParts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: m[4] === undefined ? 0 : Number(m[4]),
    minute: m[5] === undefined ? 0 : Number(m[5]),
    second: m[6] === undefined ? 0 : Number(m[6]),
    fraction: m[7] ?? '',
    offsetMinutes: 0,
  };
  const offset = m[8];
  if (offset && offset !== 'Z' && offset !== 'z') {
    const digits = offset.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (hours > 18 || minutes > 59) return undefined;
    parts.offsetMinutes = (offset[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  if (!isValid(parts)) return undefined;
  return { kind, parts };
}

function isValid(p: DateTimeParts): boolean {
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.hour > 23 || p.minute > 59 || p.second > 59) return false;
  // Day 0 of the next month is the last day of this one; Date.UTC handles leap years.
  const daysInMonth = new Date(Date.UTC(p.year, p.month, 0)).getUTCDate();
  return p.day <= daysInMonth;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function offsetText(minutes: number, colon: boolean, withMinutes: 'always' | 'ifNonZero', zForUtc: boolean): string {
  if (minutes === 0 && zForUtc) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = pad(Math.floor(abs / 60), 2);
  const mm = abs % 60;
  if (withMinutes === 'ifNonZero' && mm === 0) return `${sign}${hh}`;
  return `${sign}${hh}${colon ? ':' : ''}${pad(mm, 2)}`;
}

/** The formatter of one run of a pattern letter (`yyyy` is letter y, count 4). */
function field(letter: string, count: number, pattern: string): DateFormatter {
  switch (letter) {
    case 'y':
      // As in Java: yy is the two-digit year, any other count is the minimum width.
      return count === 2 ? (p) => pad(p.year % 100, 2) : (p) => pad(p.year, count);
    case 'M':
      if (count >= 4) return (p) => MONTHS[p.month - 1];
      if (count === 3) return (p) => MONTHS[p.month - 1].slice(0, 3);
      return (p) => pad(p.month, count);
    case 'd':
      return (p) => pad(p.day, count);
    case 'E':
      return (p) => {
        const name = WEEKDAYS[new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay()];
        return count >= 4 ? name : name.slice(0, 3);
      };
    case 'H':
      return (p) => pad(p.hour, count);
    case 'h':
      return (p) => pad(p.hour % 12 === 0 ? 12 : p.hour % 12, count);
    case 'm':
      return (p) => pad(p.minute, count);
    case 's':
      return (p) => pad(p.second, count);
    case 'S':
      // Fraction of a second, truncated or zero-padded to `count` digits (S = tenths, SSS = milliseconds).
      return (p) => p.fraction.padEnd(count, '0').slice(0, count);
    case 'a':
      return (p) => (p.hour < 12 ? 'AM' : 'PM');
    case 'X':
    case 'x': {
      const z = letter === 'X';
      if (count === 1) return (p) => offsetText(p.offsetMinutes, false, 'ifNonZero', z);
      if (count === 2) return (p) => offsetText(p.offsetMinutes, false, 'always', z);
      if (count === 3) return (p) => offsetText(p.offsetMinutes, true, 'always', z);
      break;
    }
    case 'Z':
      if (count <= 3) return (p) => offsetText(p.offsetMinutes, false, 'always', false);
      break;
  }
  throw new DateFormatError(
    `unsupported pattern letters "${letter.repeat(count)}" in date format "${pattern}"; ` +
      "use y, M, d, E, H, h, m, s, S, a, X, x, Z and put literal text in single quotes ('T')",
  );
}

function compile(pattern: string): DateFormatter {
  const pieces: Array<string | DateFormatter> = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "'") {
      // '' outside quotes is one quote; inside quotes, '' is an escaped quote too.
      if (pattern[i + 1] === "'") {
        pieces.push("'");
        i += 2;
        continue;
      }
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) throw new DateFormatError(`unterminated quote in date format "${pattern}"`);
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += pattern[j++];
      }
      pieces.push(text);
      i = j + 1;
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      let j = i;
      while (pattern[j] === c) j++;
      pieces.push(field(c, j - i, pattern));
      i = j;
    } else {
      pieces.push(c);
      i++;
    }
  }
  return (parts) => {
    let out = '';
    for (const piece of pieces) out += typeof piece === 'string' ? piece : piece(parts);
    return out;
  };
}

const compiled = new Map<string, DateFormatter>();
const MAX_CACHED = 256;

/** The formatter of a pattern, compiled once. Throws DateFormatError for an unsupported pattern. */
export function compileDateFormat(pattern: string): DateFormatter {
  let f = compiled.get(pattern);
  if (!f) {
    f = compile(pattern);
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(pattern, f);
  }
  return f;
}

/** Formats the fields with a pattern, e.g. formatDate(parts, 'dd.MM.yyyy'). */
export function formatDate(parts: DateTimeParts, pattern: string): string {
  return compileDateFormat(pattern)(parts);
}

/**
 * A function that rewrites ISO date and date-time strings with the given patterns and returns every other
 * string unchanged. Both patterns are compiled up front, so a bad pattern fails here, once.
 */
export function dateValueFormatter(
  formats: { dateFormat?: string; dateTimeFormat?: string } = {},
): (value: string) => string {
  const date = compileDateFormat(formats.dateFormat ?? DEFAULT_DATE_FORMAT);
  const dateTime = compileDateFormat(formats.dateTimeFormat ?? DEFAULT_DATE_TIME_FORMAT);
  return (value) => {
    const iso = parseIsoValue(value);
    if (!iso) return value;
    return iso.kind === 'date' ? date(iso.parts) : dateTime(iso.parts);
  };
}
