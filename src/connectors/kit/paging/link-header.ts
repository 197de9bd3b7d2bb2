/**
 * RFC 8288 Link header parsing, just enough to find `rel="next"`:
 *   Link: <https://api/x?page=2>; rel="next", <https://api/x?page=9>; rel="last"
 * URLs may contain commas and semicolons, so the header is scanned rather than split on ",".
 */
export interface LinkValue {
  url: string;
  params: Record<string, string>;
}

export function parseLinkHeader(header: string): LinkValue[] {
  const links: LinkValue[] = [];
  let i = 0;
  while (i < header.length) {
    const open = header.indexOf('<', i);
    if (open < 0) break;
    const close = header.indexOf('>', open);
    if (close < 0) break;
    const url = header.slice(open + 1, close).trim();
    const params: Record<string, string> = {};
    i = close + 1;
    // Parameters run until the next top-level comma; quoted values may hold commas.
    while (i < header.length) {
      const m = /^\s*;\s*([^\s=;,]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;,]*)))?/.exec(header.slice(i));
      if (!m) break;
      params[m[1].toLowerCase()] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
      i += m[0].length;
    }
    const comma = header.indexOf(',', i);
    links.push({ url, params });
    if (comma < 0) break;
    i = comma + 1;
  }
  return links;
}

/** The target of the first link whose rel (a space-separated list) contains `rel`. */
export function findLink(header: string | undefined, rel: string): string | undefined {
  if (!header) return undefined;
  const wanted = rel.toLowerCase();
  return parseLinkHeader(header).find((l) => (l.params.rel ?? '').toLowerCase().split(/\s+/).includes(wanted))?.url;
}
