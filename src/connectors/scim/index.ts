/**
 * SCIM 2.0 connector, read as a SCIM client (seed 004): scheduled reads of `/Users` and `/Groups` (full or
 * incremental on `meta.lastModified`) and the connection check. Provisioning activities come later.
 */
import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { checkScimConnection } from './check.js';
import { extractScim } from './extract.js';

export { checkScimConnection } from './check.js';
export { extractScim } from './extract.js';
export { scimString } from './filter.js';
export type { ScimRuntimeOptions } from './session.js';

export const scimConnector: ConnectorType = {
  type: 'scim',
  usages: ['scheduled'],
  incremental: true,
  mappingsTypes: ['identityAndAccess', 'identity', 'access'],
  secretRefs: connectorSecretRefs('scim'),
  extract: (ctx) => extractScim(ctx),
  checkConnection: (ctx) => checkScimConnection(ctx),
};
