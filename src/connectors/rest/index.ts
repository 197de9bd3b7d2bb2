/** Generic REST API connector (seed 000): scheduled extract and connection check. */
import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { closeRestActionSessions, evictRestActionSession, restCall } from './actions/index.js';
import { checkRestConnection } from './check.js';
import { extractRest } from './extract.js';
import { validateRestConnector, validateRestTask } from './validation.js';

export type { RetryOptions } from '../../transport/http-client.js';
export { checkRestConnection } from './check.js';
export { extractRest } from './extract.js';
export type { RestRuntimeOptions } from './session.js';

export const restConnector: ConnectorType = {
  type: 'rest',
  usages: ['scheduled', 'event'],
  incremental: false,
  mappingsTypes: ['generic'],
  secretRefs: connectorSecretRefs('rest'),
  validateConnector: validateRestConnector,
  validateTask: validateRestTask,
  extract: (ctx) => extractRest(ctx),
  // Subquery results are mapped as `<subquery>.<path>` (DESIGN §2).
  mappingPrefixes: (task) => task.spec.source?.rest?.subqueries ?? [],
  checkConnection: (ctx) => checkRestConnection(ctx),
  actions: { restCall },
  // The event-call session holds the secret values, the TLS dispatcher and the dynamic token: dropping it drops
  // them all; calls in flight finish on it, the next call opens a new session that reads the secrets again.
  // Scheduled runs open a session per run, so nothing of theirs outlives a run.
  evictSessions: (namespace, name) => evictRestActionSession(namespace, name),
  closeSessions: () => closeRestActionSessions(),
};
