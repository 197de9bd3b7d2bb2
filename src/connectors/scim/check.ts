/**
 * Test connection (Connector status, `provisio test-connection`), the seed's two buttons in one check, each
 * with one attempt: "test connection" reaches `/ServiceProviderConfig` and reports what the server supports;
 * "test authentication" is an authenticated `GET /Users?count=1`, where a 401 says the service account is wrong.
 */
import { statusText } from '../../transport/http-client.js';
import { excerpt } from '../../transport/scrub.js';
import type { ConnectionCheck, ConnectionContext } from '../types.js';
import { AUTH_HINT, type ScimApi, scimError } from './api.js';
import { endpoint } from './config.js';
import { describeFeatures, features } from './provider.js';
import { openScimSession, type ScimRuntimeOptions, type ScimSession } from './session.js';

export async function checkScimConnection(
  ctx: ConnectionContext,
  options: ScimRuntimeOptions = {},
): Promise<ConnectionCheck> {
  let session: ScimSession | undefined;
  try {
    session = await openScimSession(ctx, { retry: { maxAttempts: 1, ...options.retry } });
    const { api, baseUrl } = session;
    const config = await probe(api, endpoint(baseUrl, '/ServiceProviderConfig'));
    if (!config.ok) return config;
    const users = await probe(api, endpoint(baseUrl, '/Users?count=1'));
    if (!users.ok) return users;
    const f = features(config.body);
    return { ok: true, message: `${config.message}, ${describeFeatures(f)}; ${users.message}` };
  } catch (e) {
    const err = session ? session.toExtractError(e) : e;
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  } finally {
    await session?.close();
  }
}

async function probe(api: ScimApi, url: URL): Promise<ConnectionCheck & { body?: unknown }> {
  const res = await api.get(url, { returnLastAnswer: true });
  const answer = `${api.describe(url)} answered ${statusText(res.status)}`;
  if (res.status === 401 || res.status === 403) return { ok: false, message: `${answer}: ${AUTH_HINT}` };
  if (res.status < 200 || res.status >= 300) {
    const { scimType, detail } = scimError(res.body);
    const said = [scimType, detail ?? (res.body.trim() ? excerpt(res.body, 200) : undefined)].filter(Boolean);
    return { ok: false, message: `${answer}${said.length ? `: ${said.join(': ')}` : ''}` };
  }
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return { ok: false, message: `${answer}, but not with JSON: is spec.scim.basePath right?` };
  }
  return { ok: true, message: answer, body };
}
