/**
 * Reads the connector and task blocks and applies the defaults written in schemas/connectors/scim.json, so that
 * the rest of the folder works with complete, validated settings.
 */
import type { ScimConnector, ScimSource } from '../../generated/types.js';
import type { Connector, Task } from '../../model/resources.js';
import { ExtractError } from '../types.js';

export const DEFAULT_PORT = 443;
export const DEFAULT_BASE_PATH = '/scim/v2';
export const DEFAULT_PAGE_SIZE = 100;
/** Time limit of one request; the schema has no setting for it. */
export const TIMEOUT_MS = 60_000;

export function scimBlock(connector: Connector): ScimConnector {
  const scim = connector.spec.scim;
  if (!scim) throw new ExtractError(`connector "${connector.metadata.name}" has no spec.scim block`);
  return scim;
}

export function scimSource(task: Task): ScimSource {
  return task.spec.source?.scim ?? {};
}

/** `https://host:port/basePath` (http when spec.scim.tls.enabled is false), without a trailing slash. */
export function scimBaseUrl(scim: ScimConnector): URL {
  const scheme = scim.tls?.enabled === false ? 'http' : 'https';
  const path = (scim.basePath ?? DEFAULT_BASE_PATH).replace(/\/+$/, '');
  try {
    return new URL(`${scheme}://${scim.host}:${scim.port ?? DEFAULT_PORT}${path}`);
  } catch {
    throw new ExtractError(`spec.scim.host "${scim.host}" and basePath do not make a valid URL`);
  }
}

/** An endpoint under the base path: `endpoint(base, '/Users')`. */
export function endpoint(base: URL, path: string): URL {
  return new URL(`${base.href}${path}`);
}
