/**
 * Graph sessions of event activities, cached per connector by the kit's SessionCache: the HTTP client over the
 * credential's TLS dispatcher, and the credential (MSAL, its token) leased once, shared by concurrent
 * invocations, each bounded by its own deadline (the session's own signal never aborts a call). A changed
 * connector spec, evictSessions (a secret changed) or a TLS failure drops the session; the next invocation
 * opens a new one, reading the secrets again.
 */
import type { Logger } from '../../../log/logger.js';
import type { Connector } from '../../../model/resources.js';
import type { SecretResolver } from '../../../secrets/resolver.js';
import { SessionCache, type SessionLease } from '../../kit/session-cache.js';
import { type GraphSession, openGraphSession } from '../session.js';

export interface SessionSource {
  connector: Connector;
  namespace: string;
  secrets: SecretResolver;
  log: Logger;
}

const cache = new SessionCache<SessionSource, GraphSession>(
  (source) => openGraphSession({ ...source, signal: new AbortController().signal }),
  (s) => s.close(),
);

export const leaseGraphActionSession = (source: SessionSource): Promise<SessionLease<GraphSession>> =>
  cache.lease(source);

/** Closes every cached session (shutdown, tests). */
export const closeGraphActionSessions = (): Promise<void> => cache.closeAll();

/** ConnectorType.evictSessions: drops the cached session of one connector. */
export const evictGraphActionSession = (namespace: string, name: string): void => cache.evict(namespace, name);
