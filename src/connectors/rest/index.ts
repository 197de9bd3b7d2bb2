/** Generic REST API connector (seed 000): scheduled extract and connection check. */
import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { restCall } from './actions/index.js';
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
  checkConnection: (ctx) => checkRestConnection(ctx),
  actions: { restCall },
};
