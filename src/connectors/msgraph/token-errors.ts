/**
 * What a failed token request means, in words an admin can act on: the AADSTS code Entra answered and the
 * setting to fix (wrong secret, unknown app, unknown tenant, certificate not uploaded), or the transport's own
 * message (the CA, a timeout, the host) when the endpoint could not be reached.
 */
import type { MsgraphConnector } from '../../generated/types.js';
import { ExtractError, ProvisioError } from '../../model/errors.js';
import type { SecretScrubber } from '../../transport/scrub.js';

const HINTS: Record<string, (g: MsgraphConnector) => string> = {
  '7000215': (g) =>
    `the client secret is wrong or expired: renew it and update key clientSecret of secret "${g.auth.secretRef.name}"`,
  '7000222': (g) =>
    `the client secret has expired: renew it and update key clientSecret of secret "${g.auth.secretRef.name}"`,
  '700016': (g) =>
    `no app registration with client id ${g.clientId} in tenant ${g.tenantId}: check spec.msgraph.clientId and tenantId`,
  '90002': (g) =>
    `tenant ${g.tenantId} does not exist in this cloud: check spec.msgraph.tenantId (and loginUrl for a sovereign cloud)`,
  '700027': (g) =>
    `the certificate assertion was refused: upload the certificate of secret "${g.auth.secretRef.name}" to the app registration`,
  '7000218': (g) =>
    `the token request had no credential: check spec.msgraph.auth.type and secret "${g.auth.secretRef.name}"`,
  '1002012': () => 'the scope was refused: spec.msgraph.graphUrl must be the Graph host of this cloud',
};

export function tokenError(
  e: unknown,
  seen: { transportError: unknown; refusal: unknown },
  graph: MsgraphConnector,
  authority: URL,
  scrubber: SecretScrubber,
): unknown {
  // A failure to reach the endpoint is the transport's: its message names the CA setting or the timeout.
  if (seen.transportError instanceof ProvisioError) return seen.transportError;
  const err = e as { errorCode?: string; errorMessage?: string; message?: string };
  let text = String(err.errorMessage ?? err.message ?? e);
  const answered = seen.refusal as { error?: unknown; error_description?: unknown } | undefined;
  if (!/AADSTS\d+/.test(text) && typeof answered?.error_description === 'string') {
    text = answered.error_description;
    err.errorCode ??= typeof answered.error === 'string' ? answered.error : undefined;
  }
  const code = /AADSTS(\d+)/.exec(text)?.[1];
  // MSAL writes "Error(s): n - Timestamp: ... - Description: AADSTSn: what. Trace ID: ..."; keep the what.
  const said = text
    .replace(/^[\s\S]*?Description:\s*/, '')
    .replace(/\s*(- )?(Trace ID|Correlation ID|Timestamp):[\s\S]*$/, '')
    .trim();
  const where = `token request to ${authority.href} refused`;
  if (code) {
    const hint = HINTS[code]?.(graph);
    const kind = err.errorCode ? ` (${err.errorCode})` : '';
    return new ExtractError(scrubber.scrub(`${where}${kind}: ${said}${hint ? `; ${hint}` : ''}`));
  }
  return new ExtractError(scrubber.scrub(`${where}: ${said}`));
}
