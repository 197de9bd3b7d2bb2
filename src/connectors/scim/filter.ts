/**
 * SCIM filter text (RFC 7644 §3.4.2.2) that Provisio writes itself: string values are quoted JSON-style, so a
 * `"` or `\` in a value is escaped; the user's filters are taken as written and combined with `and`.
 */

/** A SCIM string literal: `"` and `\` escaped, in double quotes. */
export function scimString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The incremental clause: what changed after the cursor (the highest meta.lastModified of the last run). */
export function modifiedAfter(cursor: string): string {
  return `meta.lastModified gt ${scimString(cursor)}`;
}

/** Filters combined with `and`, each in parentheses; undefined when there is none. */
export function allOf(...filters: Array<string | undefined>): string | undefined {
  const present = filters.map((f) => f?.trim()).filter((f): f is string => !!f);
  if (present.length <= 1) return present[0];
  return present.map((f) => `(${f})`).join(' and ');
}
