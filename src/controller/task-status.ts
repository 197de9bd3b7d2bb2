/**
 * Computes a Task's and a Connector's status from what the controller knows: validation findings,
 * the referenced connector, the scheduler's state and the run records.
 */

import { type ConditionInput, REASONS } from '../model/conditions.js';
import type { Condition, Task, TaskStatus } from '../model/resources.js';
import { runInProgress, runOutcome, runSucceeded } from '../model/run-outcome.js';
import type { StoredResource } from '../store/resource-store.js';
import { formatDiagnostic } from '../validation/diagnostics.js';
import { describeApplied } from './status-records.js';

export { runInProgress, runOutcome, runSucceeded };

/** The task's only findings are about spec.connectorRef.name: valid but for a connector that is not there. */
export const onlyConnectorRefFindings = (stored: StoredResource<Task>): boolean =>
  stored.errors.length > 0 && stored.errors.every((e) => e.field === 'spec.connectorRef.name');

/** Why a task cannot be scheduled, if it cannot. */
export interface Blocker {
  reason: string;
  message: string;
}

export function taskConditions(
  stored: StoredResource<Task>,
  blocker: Blocker | undefined,
  status: TaskStatus,
  suspended: boolean,
): ConditionInput[] {
  const out: ConditionInput[] = [];
  // A connectorRef that resolves to nothing is a missing dependency, reported as in Kubernetes mode (no validator).
  const waitingForConnector = blocker?.reason === REASONS.ConnectorNotReady && onlyConnectorRefFindings(stored);
  if (stored.errors.length > 0 && !waitingForConnector) {
    const first = formatDiagnostic(stored.errors[0]);
    const more = stored.errors.length > 1 ? ` (and ${stored.errors.length - 1} more)` : '';
    const serving =
      stored.effective && !blocker
        ? ` The last valid version keeps running${describeApplied(stored, status.observedGeneration)}.`
        : '';
    out.push({ type: 'Ready', status: 'False', reason: REASONS.SchemaInvalid, message: `${first}${more}.${serving}` });
    out.push({ type: 'Stalled', status: 'True', reason: REASONS.SchemaInvalid, message: `${first}${more}` });
    return out;
  }
  if (blocker) {
    // The finding says more than the blocker: it suggests the connector meant ("did you mean").
    const message = waitingForConnector ? stored.errors[0].message : blocker.message;
    out.push({ type: 'Ready', status: 'False', reason: blocker.reason, message });
    out.push({ type: 'Stalled', status: 'True', reason: blocker.reason, message });
    return out;
  }
  const task = stored.effective!;
  if (runInProgress(status.lastRun)) {
    const r = status.lastRun!;
    out.push({
      type: 'Reconciling',
      status: 'True',
      reason: REASONS.Progressing,
      message: `run ${r.id}: ${r.extract?.records ?? 0} records read, ${(r.load?.created ?? 0) + (r.load?.updated ?? 0)} cards written`,
    });
  }
  const last = [status.lastRun, ...(status.history ?? [])].find((r) => r && !runInProgress(r));
  if (suspended) {
    out.unshift({ type: 'Ready', status: 'True', reason: REASONS.Suspended, message: 'scheduling is suspended' });
  } else if (task.spec.usage !== 'scheduled') {
    out.unshift({
      type: 'Ready',
      status: 'True',
      reason: REASONS.EventTaskReady,
      message: task.spec.usage === 'event' ? `invocable at ${status.endpoint}` : 'authentication task is valid',
    });
  } else if (!last) {
    out.unshift({
      type: 'Ready',
      status: 'True',
      reason: REASONS.Scheduled,
      message: status.nextRunTime ? `waiting for the first run at ${status.nextRunTime}` : 'waiting for the first run',
    });
  } else {
    const outcome = runOutcome(last);
    out.unshift({ type: 'Ready', status: outcome.reason === REASONS.Succeeded ? 'True' : 'False', ...outcome });
  }
  return out;
}

export type { Condition };
