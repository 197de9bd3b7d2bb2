/** Cells of the run columns that `get tasks` and `get runs` print: phase statuses apart, duration, failure reason. */
import type { TaskRunSummary } from '../model/resources.js';
import { runInProgress, runOutcome, runSucceeded } from '../model/run-outcome.js';

/** "850ms", "12.4s", "3m05s", "1h02m": how long the run took (until now while it runs). */
export function runDuration(run: TaskRunSummary, now = Date.now()): string {
  if (!run.startTime) return '-';
  const end = runInProgress(run) ? now : Date.parse(run.load?.completionTime ?? run.extract?.completionTime ?? '');
  if (Number.isNaN(end)) return '-';
  const ms = Math.max(0, end - Date.parse(run.startTime));
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Why a finished run did not succeed, in the reason word and the run's own words; empty for a success. */
export function runFailureReason(run: TaskRunSummary): string {
  if (runSucceeded(run) || runInProgress(run)) return '';
  const { reason, message } = runOutcome(run);
  // The message starts with "run ID: ", which the ID column already shows.
  return `${reason}: ${message.replace(/^run \S+: /, '')}`;
}
