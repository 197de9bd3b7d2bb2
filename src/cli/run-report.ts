/** How `trigger --wait` (against a controller or a cluster) tells a run has ended, and reports it. */
import { runInProgress, runSucceeded } from '../controller/task-status.js';
import type { TaskRunSummary } from '../model/resources.js';

/** Ended: neither phase running, and the load not still waiting for the extract. */
export const runEnded = (run: TaskRunSummary): boolean => !runInProgress(run) && run.load?.status !== 'Pending';

/** Prints the run's one-line outcome; answers the exit code (1 if it failed). */
export function reportRun(run: TaskRunSummary): number {
  console.log(
    `run ${run.id}: extract ${run.extract?.status} (${run.extract?.info ?? ''}); load ${run.load?.status} (${run.load?.info ?? ''})`,
  );
  return runSucceeded(run) ? 0 : 1;
}
