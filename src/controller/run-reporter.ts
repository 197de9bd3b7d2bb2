/**
 * Where a run's record goes while it runs and when it ends (DESIGN §4: run reporter → status writer). The
 * executor only knows this interface; a Redis worker reports through the same one later.
 */
import type { Task, TaskRunSummary } from '../model/resources.js';

export interface RunReporter {
  /** The run's counters moved (throttled by the engine). */
  progress(key: string, run: TaskRunSummary): void;
  /** The run ended; its record is final. `task`: the version that ran. */
  finished(key: string, run: TaskRunSummary, task: Task): void;
}
