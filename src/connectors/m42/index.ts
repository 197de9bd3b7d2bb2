/**
 * M42 CoreProIGA connector: data cards of another instance of the home solution (seed 001), through the
 * same REST API v1 client as the m42 target (targets/m42/api). Scheduled reads of a template's cards
 * (extract.ts), the connection check (/echo, /echo/jwt), the activities createDataCard, updateDataCard and
 * deleteDataCard on event tasks (actions/), and the loop guard between its scheduled and event tasks.
 */
import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { m42Actions } from './actions/activities.js';
import { closeM42ActionSessions, evictM42ActionSession } from './actions/sessions.js';
import { checkM42Connection } from './check.js';
import { extractM42 } from './extract.js';
import { m42LoopGuard, validateM42Task } from './validation.js';

export { checkM42Connection } from './check.js';
export { extractM42 } from './extract.js';

export const m42Connector: ConnectorType = {
  type: 'm42',
  usages: ['scheduled', 'event'],
  incremental: false,
  mappingsTypes: ['generic'],
  secretRefs: connectorSecretRefs('m42'),
  validateTask: validateM42Task,
  validateTaskSet: m42LoopGuard,
  extract: (ctx) => extractM42(ctx),
  checkConnection: (ctx) => checkM42Connection(ctx),
  actions: m42Actions,
  evictSessions: (namespace, name) => evictM42ActionSession(namespace, name),
  closeSessions: () => closeM42ActionSessions(),
};
