/**
 * Connector sessions for event calls, cached across invocations (the lifecycle is the kit's SessionCache).
 * Creating one reads secrets (possibly from disk), builds a TLS dispatcher and, for dynamicToken, logs in on
 * first use; doing that per call would cost a login per invocation and a new connection pool each time. A
 * session is keyed by namespace/name and a hash of the connector's spec: a changed spec gets a new session,
 * and the old one is closed once its last call has finished. A session is also dropped after a 401 or a TLS
 * failure, and by evictActionSession (the REST type's evictSessions), so that the next invocation re-reads
 * rotated secrets and CAs.
 */
import type { Agent } from 'undici';
import type { RestConnector } from '../../../generated/types.js';
import type { Logger } from '../../../log/logger.js';
import type { Connector } from '../../../model/resources.js';
import type { SecretResolver } from '../../../secrets/resolver.js';
import type { HttpClient, RetryOptions } from '../../../transport/http-client.js';
import { SecretScrubber } from '../../../transport/scrub.js';
import { createDispatcher } from '../../../transport/tls.js';
import { type SessionLease as KitSessionLease, SessionCache } from '../../kit/session-cache.js';
import type { Authenticator } from '../auth.js';
import { restBlock } from '../config.js';
import { authenticatedHttp } from '../session.js';

/** Logins of event sessions: a few quick attempts, since callers are waiting. */
const LOGIN_RETRY: RetryOptions = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000, maxRetryAfterMs: 5_000 };

export interface ActionSession {
  rest: RestConnector;
  dispatcher: Agent;
  /** The connector's HTTP client: logins use its retry policy, calls their own (RESET_ONCE). */
  http: HttpClient;
  auth: Authenticator;
  scrubber: SecretScrubber;
}

export interface SessionSource {
  connector: Connector;
  namespace: string;
  secrets: SecretResolver;
  /** Logs of the session itself (logins, their retries): those of the invocation that created it. */
  log: Logger;
}

const cache = new SessionCache<SessionSource, ActionSession>(openSession, (s) => s.dispatcher.close());

export type SessionLease = KitSessionLease<ActionSession>;

/** A lease on the connector's session; call release() when the call is over. */
export const leaseSession = (source: SessionSource): Promise<SessionLease> => cache.lease(source);

/** Closes every cached session (shutdown, tests); calls in flight finish first. */
export const closeActionSessions = (): Promise<void> => cache.closeAll();

/** Drops the cached session of one connector (ConnectorType.evictSessions: a secret or the connector changed). */
export const evictActionSession = (namespace: string, name: string): void => cache.evict(namespace, name);

async function openSession(source: SessionSource): Promise<ActionSession> {
  const rest = restBlock(source.connector);
  const scrubber = new SecretScrubber();
  const dispatcher = await createDispatcher(rest, source.secrets, source.namespace);
  try {
    // Logins are shared by concurrent calls, so no single caller's signal may cancel them; each caller stops
    // waiting on its own deadline instead. The signal is never aborted: closing the dispatcher ends everything.
    const { http, auth } = await authenticatedHttp(rest, source, {
      dispatcher,
      signal: new AbortController().signal,
      retry: LOGIN_RETRY,
      scrubber,
    });
    return { rest, dispatcher, http, auth, scrubber };
  } catch (e) {
    await dispatcher.destroy().catch(() => {});
    throw e;
  }
}
