/**
 * M42 sessions of event activities, cached per connector by the kit's SessionCache: the login token, the TLS
 * dispatcher and the template descriptions are shared by concurrent invocations. A changed connector spec,
 * evictSessions (a secret changed) or a refused login drops the session; the next call logs in again.
 */
import type { Logger } from '../../../log/logger.js';
import type { Connector } from '../../../model/resources.js';
import type { SecretResolver } from '../../../secrets/resolver.js';
import { SessionCache, type SessionLease } from '../../kit/session-cache.js';
import { type M42Session, openM42Session } from '../session.js';

export interface SessionSource {
  connector: Connector;
  namespace: string;
  secrets: SecretResolver;
  log: Logger;
}

const cache = new SessionCache<SessionSource, M42Session>(
  // Shared by concurrent calls: no caller's signal may close it; each call stops on its own deadline.
  (source) => openM42Session({ ...source, signal: new AbortController().signal }),
  (s) => s.close(),
);

export const leaseM42Session = (source: SessionSource): Promise<SessionLease<M42Session>> => cache.lease(source);
export const closeM42ActionSessions = (): Promise<void> => cache.closeAll();
export const evictM42ActionSession = (namespace: string, name: string): void => cache.evict(namespace, name);
