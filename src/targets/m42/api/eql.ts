/**
 * EQL, the home solution's query language, as far as the REST API's `filter` parameter takes it: only the
 * WHERE part. Values go into EQL as single-quoted literals with quotes doubled, so that no value from a
 * source can end the literal and change the query.
 */

/** `'it''s'`: a string literal of EQL. */
export function eqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `$code$`: an attribute reference. Codes are identifiers; anything else is refused, never quoted into the query. */
export function eqlAttribute(code: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(code)) {
    throw new Error(`"${code}" is not an attribute code the home solution accepts (letters, digits and _)`);
  }
  return `$${code}$`;
}

/** `$code$ IN ('a', 'b')`. */
export function eqlIn(code: string, values: readonly string[]): string {
  return `${eqlAttribute(code)} IN (${values.map(eqlLiteral).join(', ')})`;
}

/** Conditions joined with AND, each in parentheses so that an OR inside one stays inside it. */
export function eqlAnd(...conditions: Array<string | undefined>): string | undefined {
  const parts = conditions.filter((c): c is string => c !== undefined && c.trim() !== '');
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : parts.map((c) => `(${c})`).join(' AND ');
}

/**
 * The WHERE part of a filter: the seeds let admins write a whole `SELECT entity FROM entity WHERE ...`, the
 * REST API takes only what follows WHERE. A statement without WHERE selects everything (undefined).
 */
export function wherePart(filter: string | undefined): string | undefined {
  const text = filter?.trim();
  if (!text) return undefined;
  if (!/^select\s/i.test(text)) return text;
  const m = /\swhere\s([\s\S]*)$/i.exec(text);
  return m ? m[1].trim() || undefined : undefined;
}

/**
 * Splits values into IN lists whose query stays short enough for a URL (servers commonly refuse request
 * lines over 8 KB) and at most `max` long (the API's page size, so that one page answers one list).
 */
export function inChunks(values: readonly string[], max = 200, maxChars = 5000): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let chars = 0;
  for (const v of values) {
    const cost = encodeURIComponent(eqlLiteral(v)).length + 4;
    if (chunk.length > 0 && (chunk.length >= max || chars + cost > maxChars)) {
      chunks.push(chunk);
      chunk = [];
      chars = 0;
    }
    chunk.push(v);
    chars += cost;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
