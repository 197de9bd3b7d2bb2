/**
 * LDAP / Active Directory connector.
 * Capabilities only so far: validation and scheduling know what this type supports; its extract
 * and actions are added in this folder without touching the engine.
 */

import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';

export const ldapConnector: ConnectorType = {
  type: 'ldap',
  usages: ['scheduled', 'event', 'authentication'],
  incremental: true,
  mappingsTypes: ['identityAndAccess', 'identity', 'access', 'generic'],
  secretRefs: connectorSecretRefs('ldap'),
};
