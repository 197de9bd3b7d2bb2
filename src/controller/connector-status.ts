/**
 * A Connector's Ready condition and health as a summary of its tasks and its findings (issue 16): what `get
 * connectors` shows must be the problem an admin has to fix, not "valid". In order: invalid spec, a secret that
 * cannot be resolved, tasks this version cannot run, a failed connection check, tasks whose last run failed.
 * A run stopped on request says nothing about the connector: its health comes from the run before.
 */
import { type ConditionInput, REASONS } from '../model/conditions.js';
import type { Connector, ConnectorStatus, TaskRunSummary } from '../model/resources.js';
import { runInProgress, runOutcome, runSucceeded } from '../model/run-outcome.js';
import type { StoredResource } from '../store/resource-store.js';
import { formatDiagnostic } from '../validation/diagnostics.js';
import { describeApplied } from './status-records.js';

/** What the connector reconciler found out about a connector besides its spec. */
export interface ConnectorFindings {
  /** A referenced secret that cannot be resolved: the resolver's message names it and where it looked. */
  missingSecret?: string;
  /** Scheduled tasks of this connector that this version cannot run (UnsupportedConnector), with why. */
  unsupported?: { tasks: string[]; message: string };
  /** The last connection check, when it failed. */
  connection?: { ok?: boolean; message?: string };
  /** The last finished (not stopped) run of each scheduled task, by task name. */
  lastRuns?: Array<{ task: string; run: TaskRunSummary | undefined }>;
  eventTasks?: number;
}

/** The run that tells a task's health: the last one finished and not stopped on request. */
export function lastTellingRun(runs: ReadonlyArray<TaskRunSummary | undefined>): TaskRunSummary | undefined {
  return runs.find((r) => r && !runInProgress(r) && runOutcome(r).reason !== REASONS.Stopped);
}

/** Connector health from the last telling runs of its scheduled tasks (the seeds' colours). */
export function connectorHealth(scheduledTaskRuns: Array<TaskRunSummary | undefined>): ConnectorStatus['health'] {
  if (scheduledTaskRuns.length === 0) return 'NoScheduledTask';
  const finished = scheduledTaskRuns.filter((r): r is TaskRunSummary => r !== undefined);
  if (finished.length === 0) return 'Pending';
  const ok = finished.filter(runSucceeded).length;
  if (ok === finished.length) return 'Healthy';
  return ok === 0 ? 'Failed' : 'Degraded';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function connectorConditions(
  stored: StoredResource<Connector>,
  health: ConnectorStatus['health'],
  observedGeneration?: number,
  findings: ConnectorFindings = {},
): ConditionInput[] {
  if (stored.errors.length > 0) {
    const first = formatDiagnostic(stored.errors[0]);
    const serving = stored.effective
      ? ` The last valid version keeps running${describeApplied(stored, observedGeneration)}.`
      : '';
    return [
      { type: 'Ready', status: 'False', reason: REASONS.SchemaInvalid, message: `${first}${serving}` },
      { type: 'Stalled', status: 'True', reason: REASONS.SchemaInvalid, message: first },
    ];
  }
  const notReady = (reason: string, message: string): ConditionInput[] => [
    { type: 'Ready', status: 'False', reason, message },
  ];
  if (findings.missingSecret) return notReady(REASONS.SecretNotFound, findings.missingSecret);
  if (findings.unsupported) {
    const { tasks, message } = findings.unsupported;
    return notReady(REASONS.UnsupportedConnector, `${message}: task ${tasks.join(', ')} cannot run`);
  }
  if (findings.connection?.ok === false) {
    return notReady(REASONS.ConnectionFailed, `connection check failed: ${findings.connection.message}`);
  }
  const runs = findings.lastRuns ?? [];
  const failing = runs.filter((r) => r.run && !runSucceeded(r.run));
  if (health === 'Failed' || health === 'Degraded') {
    const first = failing[0];
    const why = first?.run ? `; ${first.task}: ${runOutcome(first.run).reason}: ${runOutcome(first.run).message}` : '';
    return notReady(
      health === 'Failed' ? REASONS.TasksFailed : REASONS.Degraded,
      `${failing.length} of ${plural(runs.length, 'scheduled task')} failed ${failing.length === 1 ? 'its' : 'their'} last run${why}`,
    );
  }
  const events = findings.eventTasks ? `; ${plural(findings.eventTasks, 'event task')}` : '';
  const message =
    health === 'Healthy'
      ? `${plural(runs.length, 'scheduled task')} succeeded ${runs.length === 1 ? 'its' : 'their'} last run${events}`
      : health === 'Pending'
        ? `valid; waiting for the first run of ${plural(runs.length, 'scheduled task')}${events}`
        : `valid; no scheduled task${events}`;
  return [
    { type: 'Ready', status: 'True', reason: health === 'Healthy' ? REASONS.Succeeded : REASONS.Validated, message },
  ];
}
