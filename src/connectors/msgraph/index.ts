/**
 * Microsoft Graph / Entra ID connector (seed 002).
 * Capabilities only so far: validation and scheduling know what this type supports; its extract
 * and actions are added in this folder without touching the engine.
 */

import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';

export const msgraphConnector: ConnectorType = {
  type: 'msgraph',
  usages: ['scheduled', 'event', 'authentication'],
  incremental: true,
  mappingsTypes: ['identityAndAccess', 'identity', 'access', 'generic'],
  secretRefs: connectorSecretRefs('msgraph'),
};
