/**
 * LDAP sessions of event activities, cached per connector by the kit's SessionCache: one bound connection that
 * concurrent invocations share (LDAP multiplexes operations by message id). A changed connector spec,
 * evictSessions (a secret changed) or a failed connection drops it; the next invocation binds again.
 */
import type { Logger } from '../../../log/logger.js';
import type { Connector } from '../../../model/resources.js';
import type { SecretResolver } from '../../../secrets/resolver.js';
import { SessionCache, type SessionLease } from '../../kit/session-cache.js';
import { type LdapSession, openLdapSession } from '../session.js';

export interface SessionSource {
  connector: Connector;
  namespace: string;
  secrets: SecretResolver;
  log: Logger;
}

const cache = new SessionCache<SessionSource, LdapSession>(
  // Shared by concurrent calls: no caller's signal may close it; each call stops on its own deadline.
  (source) => openLdapSession({ ...source, signal: new AbortController().signal }),
  (s) => s.close(),
);

export const leaseLdapSession = (source: SessionSource): Promise<SessionLease<LdapSession>> => cache.lease(source);
export const closeLdapActionSessions = (): Promise<void> => cache.closeAll();
export const evictLdapActionSession = (namespace: string, name: string): void => cache.evict(namespace, name);
