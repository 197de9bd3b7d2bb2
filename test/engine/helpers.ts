/** Builds real engine dependencies (SQLite cache and local target in a temp dir) and resources. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtInConnectorTypes } from '../../src/connectors/registry.js';
import type { EngineDeps } from '../../src/engine/run-task.js';
import { silentLogger } from '../../src/log/logger.js';
import type { Connector, Task } from '../../src/model/resources.js';
import { LocalSecretResolver } from '../../src/secrets/resolver.js';
import { SqliteTaskCache } from '../../src/state/sqlite/sqlite-task-cache.js';
import type { TaskCache } from '../../src/state/task-cache.js';
import { LocalTarget } from '../../src/targets/local/local-target.js';
import { type Card, sharedTarget } from '../../src/targets/types.js';

export interface EngineFixture {
  dir: string;
  deps: EngineDeps;
  target: LocalTarget;
  cache: TaskCache;
  cards(template?: string): Promise<Card[]>;
  close(): Promise<void>;
}

export function engineFixture(): EngineFixture {
  const dir = mkdtempSync(join(tmpdir(), 'provisio-engine-'));
  const target = new LocalTarget(join(dir, 'cards.db'));
  const cache = new SqliteTaskCache(join(dir, 'state.db'));
  const deps: EngineDeps = {
    targets: sharedTarget(target),
    connectorTypes: builtInConnectorTypes,
    cache,
    secrets: new LocalSecretResolver(undefined, {}),
    log: silentLogger,
    artifactsRoot: join(dir, 'artifacts'),
    batchSize: 7, // small batches, so runs cross several batch boundaries
  };
  return {
    dir,
    deps,
    target,
    cache,
    async cards(template = 'employee') {
      const out: Card[] = [];
      for await (const c of target.list(template)) out.push(c);
      return out;
    },
    async close() {
      cache.close();
      await target.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function restConnector(baseUrl: string, pageSize = 10): Connector {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Connector',
    metadata: { name: 'hr-api', namespace: 'iga' },
    spec: {
      type: 'rest',
      rest: { baseUrl, auth: { type: 'none' }, pagination: { type: 'pageIncrement', pageSize } },
    },
  };
}

export function employeeTask(overrides: Partial<Task['spec']> = {}): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'hr-employees', namespace: 'iga' },
    spec: {
      connectorRef: { name: 'hr-api' },
      usage: 'scheduled',
      mappingsType: 'generic',
      schedule: { interval: '30m' },
      fetch: 'full',
      source: {
        rest: {
          query: '/employees',
          subqueries: ['/employees/{id}/groups'],
          safetyThreshold: 1000,
          errorMarker: 'errors',
        },
      },
      mappings: {
        generic: {
          template: 'employee',
          taskIdAttribute: 'task_id',
          dataSourceTypeAttribute: 'source_type',
          onDeleted: { attribute: 'status', value: 'Deleted' },
          attributes: [
            { external: 'id', local: 'employee_id', unique: true },
            { external: "name['first-name']", local: 'first_name' },
            { external: '/employees/{id}/groups.0.name', local: 'primary_group' },
          ],
        },
      },
      deletion: { maxFraction: 0.2 },
      failure: { template: 'failure', folder: 'failures', attribute: 'message' },
      ...overrides,
    },
  };
}

export const employees = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `E${i + 1}`, name: { 'first-name': `First${i + 1}` } }));
