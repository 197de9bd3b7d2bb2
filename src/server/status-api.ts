/** The read-only status API and the operation endpoints behind the CLI verbs. */
import type { Controller } from '../controller/controller.js';
import { listViews, viewOf } from '../controller/status-view.js';
import type { Logger } from '../log/logger.js';
import { Refusal } from '../model/errors.js';
import type { Kind } from '../model/resources.js';
import { refKey } from '../model/resources.js';
import type { StatusStore } from '../state/status-store.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { HttpServer } from './http-server.js';

const KIND_BY_PLURAL: Record<string, Kind> = { connectors: 'Connector', tasks: 'Task' };

export function mountStatusApi(
  server: HttpServer,
  deps: {
    store: ResourceStore;
    statuses: StatusStore;
    controller: Controller;
    revision: () => string | undefined;
    log?: Logger;
  },
): void {
  const kindOf = (plural: string): Kind => {
    const kind = KIND_BY_PLURAL[plural];
    if (!kind) throw new Refusal('notFound', `unknown resource type "${plural}": use connectors or tasks`);
    return kind;
  };
  const list = (plural: string, namespace?: string) => ({
    body: {
      apiVersion: 'v1',
      kind: 'List',
      metadata: { revision: deps.revision() },
      items: listViews(kindOf(plural), deps.store, deps.statuses, namespace),
    },
  });
  server.route('GET', '/api/v1/{plural}', false, async ({ params }) => list(params.plural));
  server.route('GET', '/api/v1/namespaces/{ns}/{plural}', false, async ({ params }) => list(params.plural, params.ns));
  server.route('GET', '/api/v1/namespaces/{ns}/{plural}/{name}', false, async ({ params }) => {
    const kind = kindOf(params.plural);
    const stored = deps.store.get(kind, refKey(params.ns, params.name));
    if (!stored) throw new Refusal('notFound', `${kind} "${params.name}" not found in namespace "${params.ns}"`);
    return { body: viewOf(kind, stored, deps.store, deps.statuses) };
  });

  const taskOp = (op: string, act: (key: string, query: URLSearchParams) => unknown) =>
    server.route('POST', `/api/v1/namespaces/{ns}/tasks/{name}/${op}`, true, async ({ params, caller, query }) => {
      const key = refKey(params.ns, params.name);
      if (!deps.store.get('Task', key))
        throw new Refusal('notFound', `Task "${params.name}" not found in namespace "${params.ns}"`);
      const result = act(key, query);
      // Who asked matters when a run is stopped or a task suspended: the caller is the token's id.
      deps.log?.info(
        { task: key, operation: op, caller: caller ?? 'anonymous', result },
        `${op} of Task ${key} requested by ${caller ?? 'anonymous'}: ${String(result)}`,
      );
      return { status: 202, body: { task: key, operation: op, result, caller } };
    });
  taskOp('trigger', (key) => {
    const answer = deps.controller.trigger(key);
    if (answer === 'unknown')
      throw new Refusal('conflict', 'the task is not scheduled: it is invalid, blocked, or not a scheduled task');
    if (answer === 'suspended') throw new Refusal('conflict', 'the task is suspended: resume it first');
    return answer;
  });
  server.route('POST', '/api/v1/namespaces/{ns}/connectors/{name}/test-connection', true, async ({ params }) => {
    const key = refKey(params.ns, params.name);
    const stored = deps.store.get('Connector', key);
    if (!stored) throw new Refusal('notFound', `Connector "${params.name}" not found in namespace "${params.ns}"`);
    if (!stored.effective)
      throw new Refusal('conflict', `Connector ${key} is invalid: fix it before testing its connection`);
    const connection = await deps.controller.testConnection(key);
    return { body: { connector: key, ...connection } };
  });
  taskOp('stop', (key) => (deps.controller.stop(key) ? 'stopping' : 'not-running'));
  // ?cursor=true (`provisio clear-cache --cursor`) also resets the incremental cursors.
  taskOp('clear-cache', (key, query) => {
    const cursors = query.get('cursor') === 'true';
    deps.controller.clearCache(key, { cursors });
    return cursors ? 'requested with cursor reset' : 'requested';
  });
  taskOp('suspend', (key) => {
    deps.controller.setSuspended(key, true);
    return 'suspended';
  });
  taskOp('resume', (key) => {
    deps.controller.setSuspended(key, false);
    return 'resumed';
  });
}
