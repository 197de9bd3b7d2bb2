/** Provisioning activities of the SCIM connector (issue 14 part 3), registered as `actions` on scimConnector (restCall included). */
import type { ActionHandler } from '../../types.js';
import { addUserToGroups, createGroup, deleteGroup, removeUserFromGroups } from './groups.js';
import { restCall } from './rest-call.js';
import { activateUser, createUser, deactivateUser, deleteUser, updateUser } from './users.js';

export { closeScimActionSessions, evictScimActionSession } from './sessions.js';

export const scimActions: Readonly<Record<string, ActionHandler>> = {
  createUser,
  updateUser,
  activateUser,
  deactivateUser,
  deleteUser,
  addUserToGroups,
  removeUserFromGroups,
  createGroup,
  deleteGroup,
  restCall,
};
