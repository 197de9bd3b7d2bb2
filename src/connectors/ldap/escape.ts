/**
 * Values put into LDAP filters and DNs are escaped for that language, never pasted: RFC 4515 for filter
 * assertion values, RFC 4514 for attribute values in a DN. Filters written by admins are parsed here so that
 * `provisio validate` names a broken one.
 */
import { FilterParser } from 'ldapts';

/** RFC 4515 §3: `*`, `(`, `)`, `\` and NUL as `\XX`; bytes of a Buffer all as `\XX` (binary assertion values). */
export function escapeFilterValue(value: string | Buffer): string {
  if (Buffer.isBuffer(value)) return [...value].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** RFC 4514 §2.4: `"+,;<>\` and `=` escaped, a leading `#` or space and a trailing space too, NUL as `\00`. */
export function escapeDnValue(value: string): string {
  let out = value.replace(/["+,;<>\\=]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** Why a filter does not parse as RFC 4515, or undefined when it does. */
export function filterProblem(filter: string): string | undefined {
  const text = filter.trim();
  if (!text.startsWith('(') || !text.endsWith(')')) return 'must be an LDAP filter in parentheses';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return `unbalanced ")" at character ${i + 1}`;
  }
  if (depth !== 0) return 'unbalanced parentheses';
  if (/\\(?![0-9a-fA-F]{2})/.test(text.replace(/\\[0-9a-fA-F]{2}/g, ''))) {
    return 'a backslash must start a two-digit hex escape such as \\2a (RFC 4515)';
  }
  try {
    FilterParser.parseString(text);
  } catch (e) {
    return `is not a valid RFC 4515 filter: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

/** `(&(a)(b))`, leaving out an empty part. */
export function and(...filters: Array<string | undefined>): string {
  const parts = filters.filter((f): f is string => !!f);
  return parts.length === 1 ? parts[0] : `(&${parts.join('')})`;
}
