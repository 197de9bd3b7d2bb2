/**
 * LDAP / Active Directory connector (ldapts 8): scheduled reads of users and groups (full, or incremental on
 * modifyTimestamp / uSNChanged with OpenLDAP accesslog deletes), memberships as references, and the connection
 * check, and account activities on event tasks (actions/). See docs/adr/0012-ldap-connector.md.
 */
import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { closeLdapActionSessions, evictLdapActionSession, ldapActions } from './actions/index.js';
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
  actions: ldapActions,
  // The event session holds the bound connection and the password: dropping it makes the next call bind again.
  evictSessions: (namespace, name) => evictLdapActionSession(namespace, name),
  closeSessions: () => closeLdapActionSessions(),
};
