/**
 * LDAP values as records carry them: multi-valued attributes as lists, AD's binary objectGUID and objectSid as
 * their canonical strings, photos and other binary values as base64, generalized time and AD FILETIME as ISO
 * date-times, and `accountDisabled` read from userAccountControl's ACCOUNTDISABLE bit.
 */
import type { AttributeShapes } from './schema.js';

/** Attributes that are binary whatever their schema says; ldapts returns them as Buffers when asked. */
export const BINARY_ATTRIBUTES = ['objectGUID', 'objectSid', 'jpegPhoto', 'thumbnailPhoto', 'userCertificate', 'photo'];
const BINARY = new Set(BINARY_ATTRIBUTES.map((a) => a.toLowerCase()));

/** AD attributes holding FILETIME (100 ns since 1601-01-01 UTC). */
const FILETIME = new Set(
  [
    'accountExpires',
    'lastLogonTimestamp',
    'lastLogon',
    'lastLogoff',
    'pwdLastSet',
    'badPasswordTime',
    'lockoutTime',
  ].map((a) => a.toLowerCase()),
);
/** Generalized-time attributes seen in both flavours. */
const GENERALIZED = new Set(
  ['modifyTimestamp', 'createTimestamp', 'whenChanged', 'whenCreated', 'pwdChangedTime', 'pwdAccountLockedTime'].map(
    (a) => a.toLowerCase(),
  ),
);

/** Synthetic attributes a mapping may name. */
export const DERIVED: Readonly<Record<string, string>> = { accountdisabled: 'userAccountControl' };

const FILETIME_EPOCH_OFFSET = 116444736000000000n;
/** accountExpires' "never" values. */
const NEVER = new Set(['0', '9223372036854775807']);

export function guidString(b: Buffer): string {
  if (b.length !== 16) return b.toString('base64');
  const h = (s: number, n: number, le: boolean): string => {
    const part = Buffer.from(b.subarray(s, s + n));
    return (le ? part.reverse() : part).toString('hex');
  };
  return `${h(0, 4, true)}-${h(4, 2, true)}-${h(6, 2, true)}-${h(8, 2, false)}-${h(10, 6, false)}`;
}

export function sidString(b: Buffer): string {
  if (b.length < 8) return b.toString('base64');
  const count = b[1];
  const authority = b.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let i = 0; i < count && 8 + i * 4 + 4 <= b.length; i++) subs.push(b.readUInt32LE(8 + i * 4));
  return ['S', b[0], authority, ...subs].join('-');
}

/** FILETIME as ISO; null for AD's "never" (0 and the largest 64-bit value). */
export function fileTimeIso(v: string): string | null {
  if (NEVER.has(v) || !/^-?\d+$/.test(v)) return NEVER.has(v) ? null : v;
  const ms = (BigInt(v) - FILETIME_EPOCH_OFFSET) / 10000n;
  return new Date(Number(ms)).toISOString();
}

/** `20261203124038Z`, `20261203124038.5Z`, `20261203124038+0200` as ISO. */
export function generalizedIso(v: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)?$/.exec(v);
  if (!m) return v;
  const [, y, mo, d, h, mi = '00', s = '00', frac, zone = 'Z'] = m;
  const ms = frac ? `.${frac.padEnd(3, '0').slice(0, 3)}` : '';
  const tz = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3) || '00'}`;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${tz}`);
  return Number.isNaN(date.getTime()) ? v : date.toISOString();
}

const lowerCache = new Map<string, string>();
const lower = (s: string): string => {
  let l = lowerCache.get(s);
  if (l === undefined) {
    l = s.toLowerCase();
    if (lowerCache.size < 10_000) lowerCache.set(s, l);
  }
  return l;
};

function scalar(name: string, v: Buffer | string): unknown {
  const n = lower(name);
  if (Buffer.isBuffer(v)) {
    if (n === 'objectguid') return guidString(v);
    if (n === 'objectsid') return sidString(v);
    return v.toString('base64');
  }
  if (FILETIME.has(n)) return fileTimeIso(v);
  if (GENERALIZED.has(n)) return generalizedIso(v);
  return v;
}

/** One attribute's value: a list for multi-valued attributes, else the single value. */
export function convert(name: string, raw: unknown, shapes: AttributeShapes): unknown {
  return convertKnown(name, raw, shapes.multi(name.split(';')[0]));
}

/** convert() with the schema's answer already looked up (undefined: the schema did not say). */
export function convertKnown(name: string, raw: unknown, multi: boolean | undefined): unknown {
  const base = name.includes(';') ? name.split(';')[0] : name;
  if (!Array.isArray(raw)) {
    const v = scalar(base, raw as Buffer | string);
    return multi ? [v] : v;
  }
  const out = (raw as Array<Buffer | string>).map((v) => scalar(base, v));
  return (multi ?? out.length > 1) ? out : out[0];
}

export const isBinary = (name: string): boolean => BINARY.has(name.toLowerCase());

/** The ACCOUNTDISABLE bit (0x2) of userAccountControl. */
export function accountDisabled(uac: unknown): boolean | undefined {
  const n = Number(Array.isArray(uac) ? uac[0] : uac);
  return Number.isFinite(n) ? (n & 2) === 2 : undefined;
}
