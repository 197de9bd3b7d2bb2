/**
 * Questions about the desired state that the reconcilers, the run executor and the invocation gate all
 * ask: a task's connector, a connector's tasks, what blocks a task from running, whether it is suspended.
 */
import type { ConnectorRegistry } from '../connectors/registry.js';
import { REASONS } from '../model/conditions.js';
import type { Connector, Task } from '../model/resources.js';
import { namespaceOf, refKey } from '../model/resources.js';
import type { ResourceStore, StoredResource } from '../store/resource-store.js';
import type { StatusRecords } from './status-records.js';
import { type Blocker, onlyConnectorRefFindings } from './task-status.js';

export class ResourceLookup {
  constructor(
    private readonly store: ResourceStore,
    private readonly records: StatusRecords,
    private readonly types: ConnectorRegistry,
  ) {}

  connectorFor(task: Task): StoredResource<Connector> | undefined {
    return this.store.get<Connector>('Connector', refKey(namespaceOf(task), task.spec.connectorRef.name));
  }

  tasksOf(connectorKey: string): StoredResource<Task>[] {
    return this.store.list<Task>('Task').filter((t) => {
      const task = t.effective ?? t.declared;
      return task?.spec?.connectorRef && refKey(namespaceOf(task), task.spec.connectorRef.name) === connectorKey;
    });
  }

  /** Why the task cannot run now, or undefined when it can. */
  blocker(stored: StoredResource<Task>): Blocker | undefined {
    const task = stored.effective;
    if (!task) {
      const waiting = onlyConnectorRefFindings(stored) ? this.connectorBlocker(stored.declared) : undefined;
      return waiting ?? { reason: REASONS.SchemaInvalid, message: 'no valid version of this task exists yet' };
    }
    const waiting = this.connectorBlocker(task);
    if (waiting) return waiting;
    const connector = this.connectorFor(task)!.effective!;
    const type = this.types.get(connector.spec.type);
    if (task.spec.usage === 'scheduled' && !type.extract) {
      return {
        reason: REASONS.UnsupportedConnector,
        message: `scheduled tasks of ${connector.spec.type} connectors cannot run yet in this version of Provisio`,
      };
    }
    return undefined;
  }

  private connectorBlocker(task: Task): Blocker | undefined {
    const conn = this.connectorFor(task);
    if (conn?.effective) return undefined;
    return {
      reason: REASONS.ConnectorNotReady,
      message: conn
        ? `Connector "${task.spec.connectorRef.name}" is invalid: ${conn.errors[0]?.message ?? 'see its status'}`
        : `Connector "${task.spec.connectorRef.name}" not found in namespace "${namespaceOf(task)}"`,
    };
  }

  suspended(stored: StoredResource<Task>): boolean {
    const task = stored.effective;
    const conn = task ? this.connectorFor(task)?.effective : undefined;
    return !!(task?.spec.suspend || conn?.spec.suspend || this.records.peekTask(stored.key)?.suspendOverride);
  }
}
