/**
 * SCIM sessions of event activities, cached per connector by the kit's SessionCache: the secret values, the TLS
 * dispatcher and the auth header are read once and shared by concurrent invocations; the server's features
 * (`/ServiceProviderConfig`: does it PATCH?) are read on first need. A changed connector spec, evictSessions
 * (a secret changed) or a 401 drops the session, and the next invocation reads the secrets again.
 */
import type { Logger } from '../../../log/logger.js';
import type { Connector } from '../../../model/resources.js';
import type { SecretResolver } from '../../../secrets/resolver.js';
import { type SessionLease as KitSessionLease, SessionCache } from '../../kit/session-cache.js';
import type { ProviderFeatures } from '../provider.js';
import { openScimSession, type ScimSession } from '../session.js';

export interface EventSession {
  scim: ScimSession;
  /** The server's features, once read. */
  features?: ProviderFeatures;
}

export interface SessionSource {
  connector: Connector;
  namespace: string;
  secrets: SecretResolver;
  log: Logger;
}

const cache = new SessionCache<SessionSource, EventSession>(
  async (source) => ({
    // Shared by concurrent calls: no caller's signal may close it; each call stops on its own deadline.
    scim: await openScimSession({ ...source, signal: new AbortController().signal }),
  }),
  (s) => s.scim.close(),
);

export type SessionLease = KitSessionLease<EventSession>;

export const leaseScimSession = (source: SessionSource): Promise<SessionLease> => cache.lease(source);

/** Closes every cached session (shutdown, tests). */
export const closeScimActionSessions = (): Promise<void> => cache.closeAll();

/** ConnectorType.evictSessions: drops the cached session of one connector. */
export const evictScimActionSession = (namespace: string, name: string): void => cache.evict(namespace, name);
