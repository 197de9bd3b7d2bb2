/**
 * How a recorded run ended, worked out once from its summary: for the Task's Ready condition, its
 * Kubernetes Event, `--once` and metrics alike.
 */
import { REASONS } from './conditions.js';
import type { TaskRunSummary } from './resources.js';

export const runSucceeded = (r: TaskRunSummary | undefined): boolean =>
  r?.extract?.status === 'Succeeded' && r?.load?.status === 'Succeeded';

export const runInProgress = (r: TaskRunSummary | undefined): boolean =>
  r?.extract?.status === 'Running' || r?.load?.status === 'Running';

/**
 * The reason a finished run's Ready condition and Event carry (Succeeded, Stopped, ExtractFailed,
 * ExtractIncomplete, DeletionRefused or LoadFailed), with the message that says why.
 */
export function runOutcome(run: TaskRunSummary): { reason: string; message: string } {
  if (runSucceeded(run)) return { reason: REASONS.Succeeded, message: `run ${run.id}: ${run.load?.info ?? ''}` };
  if (run.extract?.status === 'Stopped' || run.load?.status === 'Stopped') {
    return { reason: REASONS.Stopped, message: `run ${run.id} was stopped on request` };
  }
  const extractEnded = run.extract?.status !== 'Succeeded';
  // Runs recorded before the summary carried a reason are told apart by their phase statuses.
  const reason =
    run.reason ??
    (run.extract?.status === 'Incomplete' ? 'ExtractIncomplete' : extractEnded ? 'ExtractFailed' : 'LoadFailed');
  const info = extractEnded && reason !== 'DeletionRefused' ? run.extract?.info : run.load?.info;
  return { reason, message: `run ${run.id}: ${info}` };
}

/** A run's Event as Kubernetes and git mode record it: the Ready reason, Normal or Warning, and the message. */
export function runEvent(run: TaskRunSummary): { reason: string; type: 'Normal' | 'Warning'; message: string } {
  const { reason, message } = runOutcome(run);
  if (reason !== REASONS.Succeeded) return { reason, type: 'Warning', message };
  const ld = run.load;
  return {
    reason,
    type: 'Normal',
    message: `run ${run.id}: ${run.extract?.records ?? 0} records read; ${ld?.created ?? 0} cards created, ${ld?.updated ?? 0} updated, ${ld?.unchanged ?? 0} unchanged, ${ld?.deleted ?? 0} marked deleted`,
  };
}
