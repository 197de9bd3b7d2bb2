/**
 * Test connection (Connector status): an authenticated GET of the base URL, one attempt. Any answer
 * proves the server is reachable (a 404 or a 429 too); 401/403 and 5xx are failures, reported with
 * what happened.
 */

import { statusText } from '../../transport/http-client.js';
import { excerpt } from '../../transport/scrub.js';
import { describeRequest } from '../../transport/url.js';
import type { ConnectionCheck, ConnectionContext } from '../types.js';
import { openSession, type RestRuntimeOptions } from './session.js';

export async function checkRestConnection(
  ctx: ConnectionContext,
  options: RestRuntimeOptions = {},
): Promise<ConnectionCheck> {
  let session: Awaited<ReturnType<typeof openSession>> | undefined;
  try {
    session = await openSession(ctx, { retry: { maxAttempts: 1, ...options.retry }, safetyThreshold: 1 });
    const url = session.baseUrl;
    const res = await session.api.probe(url, { returnLastAnswer: true });
    const answer = `${describeRequest('GET', url)} answered ${statusText(res.status)}`;
    if (res.status === 401 || res.status === 403) {
      return { ok: false, message: `${answer}: check spec.rest.auth and its secret` };
    }
    if (res.status >= 500) {
      const detail = res.body.trim() ? `: ${excerpt(session.scrubber.scrub(res.body), 200)}` : '';
      return { ok: false, message: `${answer}${detail}` };
    }
    return { ok: true, message: answer };
  } catch (e) {
    const err = session ? session.toExtractError(e) : e;
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  } finally {
    await session?.close();
  }
}
