/**
 * Test connection (Connector status, `provisio test-connection`): a client-credentials token from the authority
 * (the AADSTS code and the setting to fix when Entra refuses), then `GET /v1.0/users?$top=1&$select=id`, where a
 * 403 says which permissions the app registration lacks. One attempt each: an admin waits for the answer.
 */
import { statusText } from '../../transport/http-client.js';
import { SecretScrubber } from '../../transport/scrub.js';
import { toExtractError } from '../kit/session-scope.js';
import type { ConnectionCheck, ConnectionContext } from '../types.js';
import { graphError, PERMISSION_HINT } from './api.js';
import { authorityUrl, graphUrl } from './config.js';
import { type GraphRuntimeOptions, type GraphSession, openGraphSession } from './session.js';

export async function checkGraphConnection(
  ctx: ConnectionContext,
  options: GraphRuntimeOptions = {},
): Promise<ConnectionCheck> {
  let session: GraphSession | undefined;
  try {
    session = await openGraphSession(ctx, { retry: { maxAttempts: 1, ...options.retry } });
    await session.credential.auth.authorize();
    const url = graphUrl(session.host, '/users?$top=1&$select=id');
    const res = await session.api.send(url);
    const answer = `token from ${authorityUrl(session.graph).href}; GET /v1.0/users answered ${statusText(res.status)}`;
    if (res.status === 403) return { ok: false, message: `${answer}: ${PERMISSION_HINT}` };
    if (res.status < 200 || res.status >= 300) {
      const { code, message } = graphError(res.body);
      return { ok: false, message: `${answer}${code ? `: ${code}: ${message ?? ''}` : ''}` };
    }
    return { ok: true, message: answer };
  } catch (e) {
    const err = session
      ? session.toExtractError(e)
      : toExtractError(e, new SecretScrubber(), ctx.signal, 'Microsoft Graph');
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  } finally {
    await session?.close();
  }
}
