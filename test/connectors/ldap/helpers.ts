/** Resources and engine runs for the LDAP tests: a connector on a test slapd, tasks, runs through runTask. */
import { type EngineDeps, runTask } from '../../../src/engine/run-task.js';
import type { LdapConnector } from '../../../src/generated/types.js';
import type { Logger } from '../../../src/log/logger.js';
import type { Connector, Task, TaskMapping } from '../../../src/model/resources.js';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { type EngineFixture, engineFixture } from '../../engine/helpers.js';
import { SERVICE_PASSWORD, type SlapdPeer } from '../../peers/slapd.js';

export function ldapConnector(peer: SlapdPeer, block: Partial<LdapConnector> = {}): Connector {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Connector',
    metadata: { name: 'directory', namespace: 'iga' },
    spec: {
      type: 'ldap',
      ldap: {
        url: peer.url,
        flavor: peer.flavor === 'ad' ? 'activeDirectory' : 'openldap',
        bindDn: peer.serviceDn,
        secretRef: { name: 'ldap-bind' },
        baseDn: peer.baseDn,
        pageSize: 100,
        ...block,
      },
    },
  };
}

export const accountMapping = (): TaskMapping => ({
  template: 'account',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Deleted' },
  attributes: [
    { external: 'entryUUID', local: 'uuid', unique: true },
    { external: 'uid', local: 'user_name' },
    { external: 'dn', local: 'dn' },
    { external: 'mail', local: 'email' },
    { external: 'memberOf', local: 'member_of', references: 'access' },
  ],
});

export const groupMapping = (): TaskMapping => ({
  template: 'entitlement',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Removed' },
  attributes: [
    { external: 'entryUUID', local: 'uuid', unique: true },
    { external: 'cn', local: 'name' },
    { external: 'member', local: 'members', references: 'identity' },
  ],
});

export function ldapTask(
  spec: Partial<Task['spec']> = {},
  source: NonNullable<Task['spec']['source']>['ldap'] = {},
): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'accounts', namespace: 'iga' },
    spec: {
      connectorRef: { name: 'directory' },
      usage: 'scheduled',
      mappingsType: 'identityAndAccess',
      schedule: { interval: '1h' },
      fetch: 'full',
      source: {
        ldap: {
          usersBaseDn: 'ou=people,dc=example,dc=org',
          usersFilter: '(objectClass=inetOrgPerson)',
          groupsBaseDn: 'ou=groups,dc=example,dc=org',
          groupsFilter: '(objectClass=groupOfNames)',
          ...source,
        },
      },
      mappings: { identity: accountMapping(), access: groupMapping() },
      deletion: { maxFraction: 0.9 },
      ...spec,
    },
  };
}

/** An engine over a temp dir whose secret resolver knows `ldap-bind` (and `ldap-ca` (key `ca`) when given). */
export function ldapEngine(password = SERVICE_PASSWORD, log?: Logger, ca?: string): EngineFixture {
  const fx = engineFixture();
  fx.deps.secrets = new LocalSecretResolver(undefined, {
    PROVISIO_SECRET_LDAP_BIND_PASSWORD: password,
    ...(ca ? { PROVISIO_SECRET_LDAP_CA_CA: ca } : {}),
  });
  if (log) fx.deps.log = log;
  return fx;
}

let runNo = 0;
export const run = (deps: EngineDeps, task: Task, connector: Connector) =>
  runTask(deps, {
    task,
    connector,
    runId: `run-${++runNo}`,
    trigger: 'manual',
    plannedTime: new Date(),
    signal: new AbortController().signal,
  });

/** LDIF of `n` inetOrgPerson users uid=user<i> under ou=people. */
export function people(from: number, to: number, extra: (i: number) => string[] = () => []): string {
  const out: string[] = [];
  for (let i = from; i <= to; i++) {
    out.push(
      [
        `dn: uid=user${i},ou=people,dc=example,dc=org`,
        'objectClass: inetOrgPerson',
        `uid: user${i}`,
        `cn: User ${i}`,
        `sn: ${i}`,
        `mail: user${i}@example.org`,
        ...extra(i),
      ].join('\n'),
    );
  }
  return out.join('\n\n');
}

export function group(cn: string, members: string[], ou = 'groups'): string {
  return [
    `dn: cn=${cn},ou=${ou},dc=example,dc=org`,
    'objectClass: groupOfNames',
    `cn: ${cn}`,
    ...members.map((m) => `member: ${m}`),
  ].join('\n');
}

export const userDn = (i: number): string => `uid=user${i},ou=people,dc=example,dc=org`;
export const groupDn = (cn: string, ou = 'groups'): string => `cn=${cn},ou=${ou},dc=example,dc=org`;
