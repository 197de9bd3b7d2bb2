/**
 * How Kubernetes mode addresses Provisio's custom resources (group, version and plural per kind, from the
 * CRD definitions) and reads the API server's errors, for every piece that talks to the API: the source, the
 * status writer, run Events, Secrets, the leader Lease and the CLI verbs.
 */
import type { Kind } from '../model/resources.js';
import { CRD_SPECS, GROUP, VERSION } from '../schema/crd.js';

export { GROUP, VERSION };

export const PLURALS = Object.fromEntries(CRD_SPECS.map(({ names }) => [names.kind, names.plural])) as Record<
  Kind,
  string
>;

/** The HTTP status of a failed API call (client-node's ApiException), if it got an answer. */
export const apiErrorCode = (e: unknown): number | undefined => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** The message of the API server's Status answer (client-node keeps it as raw JSON text), else the error's. */
export function apiErrorMessage(e: unknown): string {
  const body = (e as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string' && body !== '') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  const fromObject = (body as { message?: string } | undefined)?.message;
  if (fromObject) return fromObject;
  return (e as Error | undefined)?.message ?? String(e);
}

/** "404: tasks.provisio.dev "x" not found": status and message, for logs and CLI errors. */
export function apiErrorText(e: unknown): string {
  const code = apiErrorCode(e);
  const message = apiErrorMessage(e);
  return code !== undefined && (e as { body?: unknown }).body ? `${code}: ${message}` : message;
}
