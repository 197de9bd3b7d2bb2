/**
 * Conditions with kstatus semantics (what Flux, kubectl wait and Argo CD read): `Ready` is always
 * present; `Reconciling` and `Stalled` are present only while True. lastTransitionTime moves only
 * when a condition's status changes.
 */
import type { Condition } from './resources.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface ConditionInput {
  type: 'Ready' | 'Reconciling' | 'Stalled';
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** Reasons used on Connector and Task conditions and in Kubernetes Events. */
export const REASONS = {
  Succeeded: 'Succeeded',
  Scheduled: 'Scheduled',
  Progressing: 'Progressing',
  /** Event only: a run started. */
  RunStarted: 'RunStarted',
  Suspended: 'Suspended',
  SchemaInvalid: 'SchemaInvalid',
  ConnectorNotReady: 'ConnectorNotReady',
  UnsupportedConnector: 'UnsupportedConnector',
  ExtractFailed: 'ExtractFailed',
  /** The extract read what it could, but the source misbehaved: loaded, deletion marking skipped. */
  ExtractIncomplete: 'ExtractIncomplete',
  DeletionRefused: 'DeletionRefused',
  LoadFailed: 'LoadFailed',
  Stopped: 'Stopped',
  EventTaskReady: 'EventTaskReady',
  Validated: 'Validated',
  /** Connector: a secret it references cannot be resolved. */
  SecretNotFound: 'SecretNotFound',
  /** Connector: its last connection check failed. */
  ConnectionFailed: 'ConnectionFailed',
  /** Connector: every scheduled task's last run failed (health Failed). */
  TasksFailed: 'TasksFailed',
  /** Connector: some scheduled tasks' last run failed (health Degraded). */
  Degraded: 'Degraded',
} as const;

export function setConditions(
  previous: readonly Condition[] | undefined,
  wanted: readonly ConditionInput[],
  generation: number,
  now: Date,
): Condition[] {
  const out: Condition[] = [];
  for (const w of wanted) {
    // kstatus: abnormal-true conditions are removed rather than set False.
    if (w.type !== 'Ready' && w.status !== 'True') continue;
    const prev = previous?.find((c) => c.type === w.type);
    out.push({
      type: w.type,
      status: w.status,
      observedGeneration: generation,
      lastTransitionTime: prev && prev.status === w.status ? prev.lastTransitionTime : now.toISOString(),
      reason: w.reason,
      message: w.message,
    });
  }
  const order = ['Ready', 'Reconciling', 'Stalled'];
  return out.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

export const conditionOf = (conditions: readonly Condition[] | undefined, type: string): Condition | undefined =>
  conditions?.find((c) => c.type === type);
