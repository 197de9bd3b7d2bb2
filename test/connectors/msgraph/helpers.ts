/** Resources, a simulated tenant and engine runs for the Microsoft Graph tests. */
import { type EngineDeps, runTask } from '../../../src/engine/run-task.js';
import type { Logger } from '../../../src/log/logger.js';
import type { Connector, Task, TaskMapping } from '../../../src/model/resources.js';
import { type EngineFixture, engineFixture } from '../../engine/helpers.js';
import type { GraphSimulator } from '../../peers/msgraph/index.js';
import type { SecretsDir } from '../../peers/secrets.js';

export const TENANT = '5b3c1f0e-8a2d-4c6b-9e7f-1a2b3c4d5e6f';
export const CLIENT_ID = '0f9e8d7c-6b5a-4f3e-2d1c-0b9a8f7e6d5c';
export const CLIENT_SECRET = 'gr4ph~s3cret.value';

let connectorNo = 0;

/** A connector on the simulator, trusting its CA through tls.caSecretRef; a new name each time (fresh credential). */
export function graphConnector(
  sim: GraphSimulator,
  auth: 'secret' | 'certificate' = 'secret',
  name?: string,
): Connector {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Connector',
    metadata: { name: name ?? `entra-${++connectorNo}`, namespace: 'iga' },
    spec: {
      type: 'msgraph',
      msgraph: {
        tenantId: TENANT,
        clientId: CLIENT_ID,
        loginUrl: sim.url,
        graphUrl: sim.url,
        tls: { caSecretRef: { name: 'entra-ca' } },
        auth: { type: auth, secretRef: { name: auth === 'secret' ? 'entra-app' : 'entra-app-cert' } },
      },
    },
  };
}

export const accountMapping = (extra: TaskMapping['attributes'] = []): TaskMapping => ({
  template: 'account',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Deleted' },
  attributes: [
    { external: 'id', local: 'object_id', unique: true },
    { external: 'userPrincipalName', local: 'upn' },
    { external: 'displayName', local: 'display_name' },
    { external: 'department', local: 'department' },
    { external: 'accountEnabled', local: 'enabled' },
    ...extra,
  ],
});

export const entitlementMapping = (extra: TaskMapping['attributes'] = []): TaskMapping => ({
  template: 'entitlement',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Removed' },
  attributes: [
    { external: 'id', local: 'object_id', unique: true },
    { external: 'displayName', local: 'name' },
    { external: 'securityEnabled', local: 'security' },
    ...extra,
  ],
});

export function graphTask(
  spec: Partial<Task['spec']> = {},
  source: NonNullable<Task['spec']['source']>['msgraph'] = {},
): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'entra-accounts', namespace: 'iga' },
    spec: {
      connectorRef: { name: 'entra' },
      usage: 'scheduled',
      mappingsType: 'identityAndAccess',
      schedule: { interval: '1h' },
      fetch: 'full',
      source: { msgraph: source },
      mappings: {
        identity: accountMapping([{ external: 'memberOf', local: 'member_of', references: 'access' }]),
        access: entitlementMapping([{ external: 'memberOf', local: 'member_of' }]),
      },
      deletion: { maxFraction: 0.9 },
      ...spec,
    },
  };
}

export function graphEngine(secrets: SecretsDir, log?: Logger): EngineFixture {
  const fx = engineFixture();
  fx.deps.secrets = secrets.resolver;
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

/** A small tenant: 12 users (3 disabled), four groups, g-nested inside g-sales. */
export function seedTenant(sim: GraphSimulator): void {
  for (let i = 1; i <= 12; i++) {
    sim.dir.addUser({
      id: `u${i}`,
      userPrincipalName: `user${i}@acme.example.com`,
      displayName: `User ${i}`,
      mail: i === 12 ? `user${i}@other.example.com` : `user${i}@acme.example.com`,
      department: i % 2 === 0 ? 'Sales' : 'IT',
      accountEnabled: i <= 9,
      givenName: `Given${i}`,
    });
  }
  sim.dir.addGroup({ id: 'g-nested', displayName: 'sg-nested', securityEnabled: true }, ['u3']);
  sim.dir.addGroup({ id: 'g-sales', displayName: 'sg-sales', securityEnabled: true }, ['u2', 'u4', 'g-nested']);
  sim.dir.addGroup({ id: 'g-it', displayName: 'sg-it', securityEnabled: true }, ['u1', 'u3', 'u5']);
  sim.dir.addGroup({ id: 'g-all', displayName: 'all-staff', securityEnabled: false }, ['u1', 'u2', 'u3']);
}
