/**
 * LDAP / Active Directory connector (ldapts 8): scheduled reads of users and groups (full, or incremental on
 * modifyTimestamp / uSNChanged with OpenLDAP accesslog deletes), memberships as references, and the connection
 * check. See docs/adr/0012-ldap-connector.md.
 */
import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { checkLdapConnection } from './check.js';
import { extractLdap } from './extract.js';
import { validateLdapTask } from './validation.js';

export { escapeDnValue, escapeFilterValue, filterProblem } from './escape.js';

export const ldapConnector: ConnectorType = {
  type: 'ldap',
  usages: ['scheduled', 'event', 'authentication'],
  incremental: true,
  mappingsTypes: ['identityAndAccess', 'identity', 'access', 'generic'],
  secretRefs: connectorSecretRefs('ldap'),
  validateTask: (task, connector) => validateLdapTask(task, connector),
  extract: (ctx) => extractLdap(ctx),
  checkConnection: (ctx) => checkLdapConnection(ctx),
};
