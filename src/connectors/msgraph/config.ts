/**
 * The connector and task blocks with the defaults of schemas/connectors/msgraph.json applied: the authority
 * (`loginUrl` + tenant), the Graph base (`graphUrl` + /v1.0), and the task's source block.
 */
import type { MsgraphConnector, MsgraphSource } from '../../generated/types.js';
import type { Connector, Task } from '../../model/resources.js';
import { ExtractError } from '../types.js';

export const DEFAULT_LOGIN_URL = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
/** Time limit of one request; the schema has no setting for it. */
export const TIMEOUT_MS = 60_000;
/** Largest page Graph serves for directory objects. */
export const PAGE_SIZE = 999;
/** Graph's $batch limit. */
export const BATCH_LIMIT = 20;
/** Requests in flight at once for per-group and per-record reads. */
export const CONCURRENCY = 4;

export function graphBlock(connector: Connector): MsgraphConnector {
  const graph = connector.spec.msgraph;
  if (!graph) throw new ExtractError(`connector "${connector.metadata.name}" has no spec.msgraph block`);
  return graph;
}

export function graphSource(task: Task): MsgraphSource {
  return task.spec.source?.msgraph ?? {};
}

const trimmed = (url: string): string => url.replace(/\/+$/, '');

function parse(url: string, field: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new ExtractError(`${field} "${url}" is not a valid URL`);
  }
}

/** `https://login.microsoftonline.com/<tenant>`: MSAL's authority. */
export function authorityUrl(graph: MsgraphConnector): URL {
  const base = trimmed(graph.loginUrl ?? DEFAULT_LOGIN_URL);
  return parse(`${base}/${encodeURIComponent(graph.tenantId)}`, 'spec.msgraph.loginUrl');
}

/** `https://graph.microsoft.com`: the Graph host, where `/v1.0/...` paths and the token scope live. */
export function graphHost(graph: MsgraphConnector): URL {
  return parse(trimmed(graph.graphUrl ?? DEFAULT_GRAPH_URL), 'spec.msgraph.graphUrl');
}

/** A Graph URL from a path: `/users` → `<host>/v1.0/users`; a path with its version (`/beta/x`) kept as it is. */
export function graphUrl(host: URL, path: string): URL {
  const p = path.startsWith('/') ? path : `/${path}`;
  const versioned = /^\/(v1\.0|beta)(\/|$)/.test(p) ? p : `/v1.0${p}`;
  return new URL(`${host.origin}${versioned}`);
}
