/**
 * The task's `usersFilter` / `groupsFilter` as Graph parameters. Admins write them two ways, both accepted: a
 * bare `$filter` expression (`accountEnabled eq true`), or, as the seeds do, a query string
 * (`$count=true&$filter=endsWith(mail,'@x.com')`, `$search="displayName:sales"`). Advanced queries (`ne`,
 * `not`, `endsWith`, `$search`, `$orderby`, `$count`) need `ConsistencyLevel: eventual` and `$count=true`; the
 * connector adds both itself rather than letting Graph refuse the read (the seeds make admins add the header).
 */

export interface FilterQuery {
  /** Parameters in order: $filter, $search, $orderby, $count. */
  params: Array<[string, string]>;
  filter?: string;
  search?: string;
  /** Why this is an advanced query (the first advanced element met); undefined for a plain one. */
  advanced?: string;
}

export class FilterSettingError extends Error {}

const ALLOWED = new Set(['$filter', '$search', '$orderby', '$count']);

function decode(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}

/** Whether a filter expression uses an operator that only advanced queries allow, and which. */
export function advancedOperator(filter: string): string | undefined {
  // Quoted literals are blanked first, so that a value containing " ne " is not taken for the operator.
  const bare = filter.replace(/'(?:[^']|'')*'/g, "''");
  if (/\bendsWith\s*\(/i.test(bare)) return 'endsWith';
  if (/\bnot\s*\(/i.test(bare)) return 'not';
  if (/\sne\s/i.test(bare)) return 'ne';
  if (/\$count\b/.test(bare)) return '$count';
  return undefined;
}

/** Parses the setting; throws FilterSettingError naming what is not allowed. */
export function parseFilterSetting(value: string | undefined): FilterQuery {
  const text = value?.trim();
  if (!text) return { params: [] };
  const queryString = /^\$[A-Za-z]+=/.test(text);
  // A bare expression is used as written; a query string's values may be URL-encoded.
  const parts = queryString ? text.split(/&(?=\$[A-Za-z]+=)/) : [`$filter=${text}`];
  const raw = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq);
    if (!ALLOWED.has(name)) {
      throw new FilterSettingError(
        `${name} is not allowed here (only $filter, $search, $orderby and $count; the connector sets $select and $top)`,
      );
    }
    raw.set(name, queryString ? decode(part.slice(eq + 1)) : part.slice(eq + 1));
  }
  const filter = raw.get('$filter');
  const search = raw.get('$search');
  const orderby = raw.get('$orderby');
  const advanced =
    (filter ? advancedOperator(filter) : undefined) ??
    (search ? '$search' : undefined) ??
    (orderby ? '$orderby' : undefined) ??
    (raw.get('$count') === 'true' ? '$count' : undefined);
  const params: Array<[string, string]> = [];
  if (filter) params.push(['$filter', filter]);
  if (search) params.push(['$search', search.startsWith('"') ? search : `"${search}"`]);
  if (orderby) params.push(['$orderby', orderby]);
  if (advanced) params.push(['$count', 'true']);
  return { params, filter, search, advanced };
}

/** The headers an advanced query needs. */
export const ADVANCED_HEADERS: Readonly<Record<string, string>> = { ConsistencyLevel: 'eventual' };

/** `?$select=...&$top=999&$filter=...`, each value URL-encoded (%20, never +). */
export function withQuery(url: URL, params: Array<[string, string]>): URL {
  const out = new URL(url.href);
  out.search = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return out;
}
