/**
 * `/ServiceProviderConfig` (RFC 7643 §5): what the server supports. The connection check reports it; the
 * incremental read asks it whether filters work before it sends `meta.lastModified gt`.
 */
import { isRecord } from '../kit/markers.js';
import type { ScimApi } from './api.js';
import { endpoint } from './config.js';

export interface ProviderFeatures {
  filter: boolean;
  maxResults?: number;
  paging: boolean;
  patch: boolean;
  bulk: boolean;
  etag: boolean;
  sort: boolean;
}

const flag = (body: Record<string, unknown>, name: string): boolean => {
  const block = body[name];
  return isRecord(block) && block.supported === true;
};

export function features(body: unknown): ProviderFeatures {
  const b = isRecord(body) ? body : {};
  const filter = isRecord(b.filter) ? b.filter : {};
  return {
    filter: flag(b, 'filter'),
    maxResults: typeof filter.maxResults === 'number' ? filter.maxResults : undefined,
    // RFC 7644 §3.4.2.4: index paging is what every server does; `pagination` is the 2024 draft's block.
    paging: isRecord(b.pagination) ? b.pagination.index !== false : true,
    patch: flag(b, 'patch'),
    bulk: flag(b, 'bulk'),
    etag: flag(b, 'etag'),
    sort: flag(b, 'sort'),
  };
}

/** For status.connection: `supports filter (max 200 results), paging, patch; not bulk, etag`. */
export function describeFeatures(f: ProviderFeatures): string {
  const all: Array<[string, boolean]> = [
    ['filter', f.filter],
    ['paging', f.paging],
    ['patch', f.patch],
    ['bulk', f.bulk],
    ['etag', f.etag],
  ];
  const label = (n: string): string =>
    n === 'filter' && f.maxResults !== undefined ? `filter (max ${f.maxResults} results)` : n;
  const yes = all.filter(([, v]) => v).map(([n]) => label(n));
  const no = all.filter(([, v]) => !v).map(([n]) => n);
  if (yes.length === 0) return 'supports none of filter, paging, patch, bulk, etag';
  return `supports ${yes.join(', ')}${no.length ? `; not ${no.join(', ')}` : ''}`;
}

/** Reads the server's features; throws what getJson throws. */
export async function readFeatures(api: ScimApi, base: URL): Promise<ProviderFeatures> {
  const res = await api.getJson(endpoint(base, '/ServiceProviderConfig'));
  return features(res.body);
}
