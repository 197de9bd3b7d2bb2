/**
 * `provisio suspend|resume connector NAME` against a running controller: every Task of the connector is suspended
 * or resumed at once, as `flux suspend` works for any kind. Logged with the caller's token id, since it stops
 * scheduled loads that other people may be waiting for. Kept apart from status-api.ts: one job, one file.
 */
import type { Controller } from '../controller/controller.js';
import type { Logger } from '../log/logger.js';
import { Refusal } from '../model/errors.js';
import { namespaceOf, refKey, type Task } from '../model/resources.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { HttpServer } from './http-server.js';

export function mountConnectorOperations(
  server: HttpServer,
  deps: { store: ResourceStore; controller: Controller; log: Logger },
): void {
  for (const [op, suspended] of [
    ['suspend', true],
    ['resume', false],
  ] as const) {
    server.route('POST', `/api/v1/namespaces/{ns}/connectors/{name}/${op}`, true, async ({ params, caller }) => {
      const key = refKey(params.ns, params.name);
      if (!deps.store.get('Connector', key)) {
        throw new Refusal('notFound', `Connector "${params.name}" not found in namespace "${params.ns}"`);
      }
      const tasks = deps.store
        .list<Task>('Task')
        .filter((t) => {
          const task = t.effective ?? t.declared;
          return task?.spec?.connectorRef && refKey(namespaceOf(task), task.spec.connectorRef.name) === key;
        })
        .map((t) => t.key);
      for (const t of tasks) deps.controller.setSuspended(t, suspended);
      deps.log.info(
        { connector: key, operation: op, tasks, caller },
        `connector ${key}: ${tasks.length} task(s) ${suspended ? 'suspended' : 'resumed'} by ${caller ?? 'an unknown caller'}`,
      );
      return {
        status: 202,
        body: { connector: key, operation: op, result: suspended ? 'suspended' : 'resumed', tasks, caller },
      };
    });
  }
}
