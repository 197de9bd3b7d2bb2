/**
 * What an admin reads when something went wrong (issue 16, ADR 0010): a task's recent log lines (authenticated:
 * they can name records and hosts) and a resource's Events in git mode. `provisio logs` and `provisio
 * describe --server` read these.
 */
import type { ServedParts } from '../controller/runtime.js';
import { Refusal } from '../model/errors.js';
import type { Kind } from '../model/resources.js';
import { refKey } from '../model/resources.js';
import type { HttpServer } from './http-server.js';

const KIND_BY_PLURAL: Record<string, Kind> = { connectors: 'Connector', tasks: 'Task' };

export function mountObservabilityApi(server: HttpServer, parts: ServedParts): void {
  server.route('GET', '/api/v1/namespaces/{ns}/tasks/{name}/logs', true, async ({ params, query }) => {
    const key = refKey(params.ns, params.name);
    if (!parts.store.get('Task', key))
      throw new Refusal('notFound', `Task "${params.name}" not found in namespace "${params.ns}"`);
    const after = query.get('after');
    if (after !== null && !/^\d+$/.test(after)) throw new Refusal('invalid', `after=${after}: give a line number`);
    const items =
      parts.taskLogs?.lines(key, { run: query.get('run') ?? undefined, after: after ? Number(after) : undefined }) ??
      [];
    return { body: { task: key, items } };
  });

  server.route('GET', '/api/v1/namespaces/{ns}/{plural}/{name}/events', false, async ({ params }) => {
    const kind = KIND_BY_PLURAL[params.plural];
    if (!kind) throw new Refusal('notFound', `unknown resource type "${params.plural}": use connectors or tasks`);
    const key = refKey(params.ns, params.name);
    if (!parts.store.get(kind, key))
      throw new Refusal('notFound', `${kind} "${params.name}" not found in namespace "${params.ns}"`);
    // Kubernetes mode: the cluster keeps the Events (kubectl describe / get events); none are kept here.
    return { body: { apiVersion: 'v1', kind: 'List', items: parts.events?.list(kind, key) ?? [] } };
  });
}
