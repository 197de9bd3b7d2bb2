/**
 * SCIM 2.0 connector, read-only (seed 004).
 * Capabilities only so far: validation and scheduling know what this type supports; its extract
 * and actions are added in this folder without touching the engine.
 */

import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';

export const scimConnector: ConnectorType = {
  type: 'scim',
  usages: ['scheduled'],
  incremental: false,
  mappingsTypes: ['identityAndAccess', 'identity', 'access', 'generic'],
  secretRefs: connectorSecretRefs('scim'),
};
