/**
 * The workflow activities of Microsoft Graph event tasks (issue 13), registered as `actions` on
 * msgraphConnector: users (users.ts), groups and memberships (groups.ts), verifications (verify.ts), custom
 * objects (objects.ts) and restCall (rest-call.ts). runTask is the invocation service's own.
 */
import type { ActionHandler } from '../../types.js';
import {
  addUserToGroups,
  createGroup,
  deleteGroup,
  removeUserFromGroups,
  updateGroup,
  verifyGroupMembership,
} from './groups.js';
import { createCustomObject, deleteCustomObject, updateCustomObject } from './objects.js';
import { restCall } from './rest-call.js';
import { activateUser, createUser, deactivateUser, deleteUser, readUser, resetPassword, updateUser } from './users.js';
import { verifyGroup, verifyUser } from './verify.js';

export const msgraphActions: Readonly<Record<string, ActionHandler>> = {
  addUserToGroups,
  removeUserFromGroups,
  createGroup,
  updateGroup,
  deleteGroup,
  verifyGroupMembership,
  verifyUser,
  verifyGroup,
  createCustomObject,
  updateCustomObject,
  deleteCustomObject,
  restCall,
  createUser,
  updateUser,
  deleteUser,
  activateUser,
  deactivateUser,
  resetPassword,
  readUser,
};
