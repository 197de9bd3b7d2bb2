/**
 * Microsoft Graph / Entra ID connector (seed 002): scheduled reads of users, groups and memberships (full, or
 * incremental through delta rounds) and of any Graph query with subqueries, the connection check, and the
 * app registration's credential (MSAL) kept per connector between runs.
 */
import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { msgraphActions } from './actions/index.js';
import { closeGraphActionSessions, evictGraphActionSession } from './actions/sessions.js';
import { checkGraphConnection } from './check.js';
import { closeCredentials, evictCredential } from './credentials.js';
import { extractGraph } from './extract.js';
import { validateGraphTask } from './validation.js';

export { checkGraphConnection } from './check.js';
export { extractGraph } from './extract.js';
export type { GraphRuntimeOptions } from './session.js';

export const msgraphConnector: ConnectorType = {
  type: 'msgraph',
  usages: ['scheduled', 'event', 'authentication'],
  incremental: true,
  mappingsTypes: ['identityAndAccess', 'identity', 'access', 'generic'],
  secretRefs: connectorSecretRefs('msgraph'),
  validateTask: validateGraphTask,
  mappingPrefixes: (task) => task.spec.source?.msgraph?.subqueries ?? [],
  extract: (ctx) => extractGraph(ctx),
  actions: msgraphActions,
  checkConnection: (ctx) => checkGraphConnection(ctx),
  // The credential holds the secret values, MSAL's token cache and the TLS dispatcher: dropping it makes the
  // next run read them again; calls in flight finish on it.
  evictSessions: (namespace, name) => {
    evictGraphActionSession(namespace, name);
    evictCredential(namespace, name);
  },
  // Event sessions first: each holds a lease on its credential.
  closeSessions: async () => {
    await closeGraphActionSessions();
    await closeCredentials();
  },
};
