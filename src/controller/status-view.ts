/**
 * Resources as users see them: declared spec plus recorded status, shaped like Kubernetes objects.
 * Serves the status API and `provisio get` without a running controller. A resource the controller
 * has not recorded yet still gets honest conditions (invalid, missing connector, not yet run).
 */

import { REASONS, setConditions } from '../model/conditions.js';
import type { Connector, Kind, Task } from '../model/resources.js';
import { API_VERSION, namespaceOf, refKey } from '../model/resources.js';
import type { StatusStore } from '../state/status-store.js';
import type { ResourceStore, StoredResource } from '../store/resource-store.js';
import type { Diagnostic } from '../validation/diagnostics.js';
import { connectorConditions } from './connector-status.js';
import { onlyConnectorRefFindings, taskConditions } from './task-status.js';

export interface ResourceView {
  apiVersion: string;
  kind: Kind;
  metadata: {
    name: string;
    namespace: string;
    generation: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
  source?: { file: string; line: number; revision?: string };
  findings?: { errors: Diagnostic[]; warnings: Diagnostic[] };
}

export function viewOf(kind: Kind, stored: StoredResource, store: ResourceStore, statuses: StatusStore): ResourceView {
  const declared = stored.declared as Connector | Task;
  const rec = statuses.read<Record<string, unknown>>(kind, stored.key);
  const status: Record<string, unknown> = { ...(rec?.status ?? {}) };
  // Findings are newer than any recorded status when the controller is not running.
  if (stored.errors.length > 0 || !rec) {
    const now = new Date();
    const generation = rec?.generation ?? 1;
    const conditions =
      kind === 'Task'
        ? taskConditions(
            stored as StoredResource<Task>,
            offlineBlocker(stored as StoredResource<Task>, store),
            {},
            false,
          )
        : connectorConditions(stored as StoredResource<Connector>, 'Pending');
    if (!rec && stored.errors.length === 0) {
      conditions[0] = {
        type: 'Ready',
        status: 'Unknown',
        reason: 'NotReconciled',
        message: 'no controller has recorded this resource yet',
      };
    }
    status.conditions = setConditions(undefined, conditions, generation, now);
  }
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: {
      name: declared.metadata.name,
      namespace: namespaceOf(declared),
      generation: rec?.generation ?? 1,
      ...(declared.metadata.labels ? { labels: declared.metadata.labels } : {}),
      ...(declared.metadata.annotations ? { annotations: declared.metadata.annotations } : {}),
    },
    spec: declared.spec as unknown as Record<string, unknown>,
    status,
    ...(stored.origin ? { source: { ...stored.origin, revision: stored.revision } } : {}),
    ...(stored.errors.length + stored.warnings.length > 0
      ? { findings: { errors: stored.errors, warnings: stored.warnings } }
      : {}),
  };
}

function offlineBlocker(stored: StoredResource<Task>, store: ResourceStore) {
  const task = stored.effective ?? (onlyConnectorRefFindings(stored) ? stored.declared : undefined);
  if (!task) return undefined;
  const conn = store.get<Connector>('Connector', refKey(namespaceOf(task), task.spec.connectorRef.name));
  if (conn?.effective) return undefined;
  return {
    reason: REASONS.ConnectorNotReady,
    message: `Connector "${task.spec.connectorRef.name}" is missing or invalid`,
  };
}

export function listViews(kind: Kind, store: ResourceStore, statuses: StatusStore, namespace?: string): ResourceView[] {
  return store
    .list(kind)
    .filter((r) => !namespace || r.key.startsWith(`${namespace}/`))
    .map((r) => viewOf(kind, r, store, statuses));
}
