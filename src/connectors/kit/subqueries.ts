/**
 * Subqueries (seed 000 §4.5): one level of follow-up reads per main record, such as /employees/{id}/groups.
 * `{attr}` takes the record's first-level attribute, URL-encoded; the result is stored on the record under
 * the template string, which is how mappings address it (`/employees/{id}/groups.0.name`). What a read is
 * (a paged GET, another protocol's lookup) is the connector type's; the expansion and the ordering are here.
 */
import type { Logger } from '../../log/logger.js';

export type Expanded = { query: string } | { missing: string };

/** Replaces every `{attr}` of the template; scalars only, since an object has no single URL form. */
export function expandSubquery(template: string, row: Record<string, unknown>): Expanded {
  const missing: string[] = [];
  const query = template.replace(/\{([^{}]+)\}/g, (_m, name: string) => {
    const value = row[name];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return encodeURIComponent(String(value));
    }
    missing.push(name);
    return '';
  });
  return missing.length === 0 ? { query } : { missing: missing[0] };
}

/**
 * Runs the row's subqueries one after another through `read` and returns the row with their results added;
 * a row without an attribute a template needs gets null for that subquery.
 */
export async function withSubqueries(
  row: Record<string, unknown>,
  templates: readonly string[],
  read: (query: string) => Promise<unknown>,
  log: Logger,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...row };
  for (const template of templates) {
    const expanded = expandSubquery(template, row);
    if ('missing' in expanded) {
      log.debug({ subquery: template, attribute: expanded.missing }, 'row lacks the subquery attribute; skipped');
      out[template] = null;
      continue;
    }
    out[template] = await read(expanded.query);
  }
  return out;
}

/**
 * Maps items with at most `limit` calls in flight and yields results in input order, so that output order
 * never depends on which server answer arrives first.
 */
export async function* mapOrdered<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight: Array<Promise<R>> = [];
  let next = 0;
  const start = (): void => {
    const p = fn(items[next++]);
    // Rejections are handled when the promise reaches the head; this keeps Node from calling them unhandled.
    p.catch(() => {});
    inFlight.push(p);
  };
  while (next < items.length && inFlight.length < limit) start();
  while (inFlight.length > 0) {
    const result = await (inFlight.shift() as Promise<R>);
    if (next < items.length) start();
    yield result;
  }
}
