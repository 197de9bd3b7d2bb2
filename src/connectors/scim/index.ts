/**
 * SCIM 2.0 connector, read as a SCIM client (seed 004): scheduled reads of `/Users` and `/Groups` (full or
 * incremental on `meta.lastModified`), the connection check, and provisioning activities on event tasks
 * (actions/: createUser, updateUser, activate/deactivateUser, deleteUser, add/removeUserFromGroups,
 * createGroup, deleteGroup, restCall).
 */
import { eventQueryFindings } from '../kit/event-call/validate-query.js';
import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { closeScimActionSessions, evictScimActionSession, scimActions } from './actions/index.js';
import { checkScimConnection } from './check.js';
import { extractScim } from './extract.js';

export { checkScimConnection } from './check.js';
export { extractScim } from './extract.js';
export { scimString } from './filter.js';
export type { ScimRuntimeOptions } from './session.js';

export const scimConnector: ConnectorType = {
  type: 'scim',
  usages: ['scheduled', 'event'],
  incremental: true,
  mappingsTypes: ['identityAndAccess', 'identity', 'access'],
  secretRefs: connectorSecretRefs('scim'),
  validateTask: (task) => eventQueryFindings(task),
  extract: (ctx) => extractScim(ctx),
  checkConnection: (ctx) => checkScimConnection(ctx),
  actions: scimActions,
  // The event session holds the secret values and the TLS dispatcher: dropping it makes the next invocation
  // read them again; calls in flight finish on it.
  evictSessions: (namespace, name) => evictScimActionSession(namespace, name),
  closeSessions: () => closeScimActionSessions(),
};
