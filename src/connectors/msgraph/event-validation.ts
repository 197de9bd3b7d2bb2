/**
 * What the validator warns about a Graph event task: the activities its mappings cannot serve, naming each
 * activity and what is missing (the seeds hide such a task from the orchestration node's dropdown; here the
 * task stays valid and an invocation of that activity is refused with 400). Kinds the task's mappingsType does
 * not have are not warned about: a task of mappingsType identity is not meant for groups.
 */
import type { Task } from '../../model/resources.js';
import type { TypeFinding } from '../types.js';
import { CREATE_NEEDS, missingForCreate } from './actions/mapping.js';

const USER_ACTIVITIES = [
  'updateUser',
  'deleteUser',
  'activateUser',
  'deactivateUser',
  'resetPassword',
  'readUser',
  'addUserToGroups',
  'removeUserFromGroups',
  'verifyUser',
  'verifyGroupMembership',
];
const GROUP_ACTIVITIES = ['updateGroup', 'deleteGroup', 'verifyGroup'];
const OBJECT_ACTIVITIES = ['updateCustomObject', 'deleteCustomObject'];

const list = (names: readonly string[]): string => names.join(', ');

export function validateGraphEventTask(task: Task): TypeFinding[] {
  const findings: TypeFinding[] = [];
  const warn = (path: Array<string | number>, message: string) => findings.push({ path, severity: 'warning', message });
  const mappings = task.spec.mappings ?? {};
  const kinds: Array<['identity' | 'access' | 'generic', string, readonly string[]]> = [
    ['identity', 'user', USER_ACTIVITIES],
    ['access', 'group', GROUP_ACTIVITIES],
    ['generic', 'object', OBJECT_ACTIVITIES],
  ];
  for (const [kind, noun, activities] of kinds) {
    const m = mappings[kind];
    if (!m || (m.attributes ?? []).some((a) => a.unique)) continue;
    warn(
      ['spec', 'mappings', kind, 'attributes'],
      `${list(activities)} cannot run on this task: spec.mappings.${kind} has no unique attribute to name the ${noun} (usually id)`,
    );
  }
  for (const kind of ['identity', 'access'] as const) {
    const m = mappings[kind];
    if (!m) continue;
    const missing = missingForCreate(m, kind);
    const activity = kind === 'identity' ? 'createUser' : 'createGroup';
    if (missing.length > 0) {
      warn(
        ['spec', 'mappings', kind, 'attributes'],
        `${activity} cannot run on this task: spec.mappings.${kind} maps no ${list(missing)} (Graph needs ${list(CREATE_NEEDS[kind])} to create a ${kind === 'identity' ? 'user' : 'group'})`,
      );
    }
  }
  if (mappings.identity && !task.spec.event?.password) {
    warn(
      ['spec', 'event'],
      'createUser and resetPassword cannot run on this task: it has no spec.event.password (mode default with a secretRef, or generated)',
    );
  }
  return findings;
}
