/** Event activities of the LDAP connector (issue 18 part 3), registered as `actions` on ldapConnector. */
import type { ActionHandler } from '../../types.js';
import {
  addUserToGroups,
  createGroup,
  deleteGroup,
  readUser,
  removeUserFromGroups,
  verifyGroup,
  verifyGroupMembership,
  verifyUser,
} from './groups.js';
import { activateUser, createUser, deactivateUser, deleteUser, resetPassword, updateUser } from './users.js';

export { closeLdapActionSessions, evictLdapActionSession } from './session.js';

export const ldapActions: Readonly<Record<string, ActionHandler>> = {
  createUser,
  updateUser,
  deleteUser,
  activateUser,
  deactivateUser,
  resetPassword,
  addUserToGroups,
  removeUserFromGroups,
  createGroup,
  deleteGroup,
  verifyUser,
  verifyGroup,
  verifyGroupMembership,
  readUser,
};
