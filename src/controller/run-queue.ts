/**
 * What the scheduler hands runs to (DESIGN §4: scheduler → run queue → run executor). In one process the
 * queue calls the executor directly; a Redis queue (BullMQ) with workers becomes another adapter of this
 * interface without the scheduler or the executor changing.
 */
import type { RunTrigger } from '../engine/run-task.js';

export interface RunJob {
  key: string;
  trigger: RunTrigger;
  plannedTime: Date;
  signal: AbortSignal;
}

export interface RunQueue {
  /** Runs the job; resolves when its run is recorded. */
  run(job: RunJob): Promise<void>;
}

export interface RunExecutorLike {
  execute(job: RunJob): Promise<void>;
}

/** The in-process queue: no queue at all, the scheduler's concurrency limit is the only one. */
export function inProcessRunQueue(executor: RunExecutorLike): RunQueue {
  return { run: (job) => executor.execute(job) };
}
