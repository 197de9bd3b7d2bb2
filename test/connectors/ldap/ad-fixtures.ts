/** Active Directory-shaped entries and mappings for the AD-flavour tests (an AD-shaped slapd). */
import type { TaskMapping } from '../../../src/model/resources.js';
import { adMandatory, b64, guidBytes, sidBytes } from '../../peers/slapd.js';
import { ldapTask } from './helpers.js';

export function adUser(i: number, o: { uac?: number; usn?: number; extra?: string[] } = {}): string {
  const guid = `0000000${i}-89ab-cdef-0123-456789abcdef`.slice(-36);
  return [
    `dn: CN=User ${i},ou=people,dc=example,dc=org`,
    'objectClass: user',
    adMandatory('Person'),
    `cn: User ${i}`,
    `sn: ${i}`,
    `sAMAccountName: user${i}`,
    `userPrincipalName: user${i}@corp.example.com`,
    `userAccountControl: ${o.uac ?? 512}`,
    `uSNChanged: ${o.usn ?? 1000 + i}`,
    b64('objectGUID', guidBytes(guid)),
    b64('objectSid', sidBytes(`S-1-5-21-3623811015-3361044348-30300820-${1100 + i}`)),
    ...(o.extra ?? []),
  ].join('\n');
}

export function adGroup(cn: string, members: string[], usn = 2000): string {
  return [
    `dn: CN=${cn},ou=groups,dc=example,dc=org`,
    'objectClass: group',
    adMandatory('Group'),
    `cn: ${cn}`,
    `sAMAccountName: ${cn}`,
    'groupType: -2147483646',
    `uSNChanged: ${usn}`,
    b64('objectGUID', guidBytes(`${String(usn).padStart(8, '0')}-0000-0000-0000-00000000abcd`)),
    ...members.map((m) => `member: ${m}`),
  ].join('\n');
}

export const adMappings = (): { identity: TaskMapping; access: TaskMapping } => ({
  identity: {
    template: 'account',
    taskIdAttribute: 'task_id',
    onDeleted: { attribute: 'status', value: 'Deleted' },
    attributes: [
      { external: 'objectGUID', local: 'guid', unique: true },
      { external: 'objectSid', local: 'sid' },
      { external: 'sAMAccountName', local: 'user_name' },
      { external: 'distinguishedName', local: 'dn' },
      { external: 'accountDisabled', local: 'disabled' },
      { external: 'accountExpires', local: 'expires' },
      { external: 'lastLogonTimestamp', local: 'last_logon' },
      { external: 'whenChanged', local: 'changed' },
      { external: 'thumbnailPhoto', local: 'photo' },
      { external: 'memberOf', local: 'groups', references: 'access' },
    ],
  },
  access: {
    template: 'entitlement',
    taskIdAttribute: 'task_id',
    attributes: [
      { external: 'objectGUID', local: 'guid', unique: true },
      { external: 'sAMAccountName', local: 'name' },
      { external: 'member', local: 'members', references: 'identity' },
    ],
  },
});

export const adTask = (spec: Parameters<typeof ldapTask>[0] = {}) =>
  ldapTask(
    { mappings: adMappings(), ...spec },
    {
      usersFilter: '(&(objectCategory=CN=Person,CN=Schema,CN=Configuration,dc=example,dc=org)(objectClass=user))',
      groupsFilter: '(objectClass=group)',
    },
  );
