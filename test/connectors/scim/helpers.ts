/** Resources and engine runs for the SCIM tests: a connector on a test server, tasks, runs through runTask. */
import { type EngineDeps, runTask } from '../../../src/engine/run-task.js';
import type { ScimConnector } from '../../../src/generated/types.js';
import type { Logger } from '../../../src/log/logger.js';
import type { Connector, Task, TaskMapping } from '../../../src/model/resources.js';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { type EngineFixture, engineFixture } from '../../engine/helpers.js';

export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export function scimConnector(
  port: number,
  options: { auth?: 'basic' | 'bearer'; pageSize?: number; tls?: ScimConnector['tls']; host?: string } = {},
): Connector {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Connector',
    metadata: { name: 'workforce-idp', namespace: 'iga' },
    spec: {
      type: 'scim',
      scim: {
        host: options.host ?? '127.0.0.1',
        port,
        basePath: '/scim/v2',
        pageSize: options.pageSize ?? 10,
        tls: options.tls ?? { enabled: false },
        auth: { type: options.auth ?? 'basic', secretRef: { name: 'scim-credentials' } },
      },
    },
  };
}

export const accountMapping = (): TaskMapping => ({
  template: 'account',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Deleted' },
  attributes: [
    { external: 'id', local: 'user_id', unique: true },
    { external: 'userName', local: 'user_name' },
    { external: 'emails.0.value', local: 'email' },
    { external: `['${ENTERPRISE}'].department`, local: 'department' },
    { external: 'groups[*].value', local: 'member_of', references: 'access' },
  ],
});

export const entitlementMapping = (): TaskMapping => ({
  template: 'entitlement',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Removed' },
  attributes: [
    { external: 'id', local: 'group_id', unique: true },
    { external: 'displayName', local: 'name' },
    { external: 'members[*].value', local: 'members', references: 'identity' },
  ],
});

export function scimTask(
  spec: Partial<Task['spec']> = {},
  source: NonNullable<Task['spec']['source']>['scim'] = {},
): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'accounts', namespace: 'iga' },
    spec: {
      connectorRef: { name: 'workforce-idp' },
      usage: 'scheduled',
      mappingsType: 'identityAndAccess',
      schedule: { interval: '1h' },
      fetch: 'full',
      source: { scim: source },
      mappings: { identity: accountMapping(), access: entitlementMapping() },
      deletion: { maxFraction: 0.9 },
      ...spec,
    },
  };
}

/** An engine over a temp dir whose secret resolver knows `scim-credentials`. */
export function scimEngine(secret: Record<string, string>, log?: Logger): EngineFixture {
  const fx = engineFixture();
  const env = Object.fromEntries(
    Object.entries(secret).map(([k, v]) => [`PROVISIO_SECRET_SCIM_CREDENTIALS_${k.toUpperCase()}`, v]),
  );
  fx.deps.secrets = new LocalSecretResolver(undefined, env);
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
