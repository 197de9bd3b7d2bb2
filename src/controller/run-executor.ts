/**
 * Runs one queued job: finds the task's valid version and its connector, runs the engine, and hands the
 * run's record to the reporter as it moves and when it ends.
 */
import { randomBytes } from 'node:crypto';
import { type EngineDeps, runTask } from '../engine/run-task.js';
import type { Connector, Task, TaskRunSummary } from '../model/resources.js';
import type { StoredResource } from '../store/resource-store.js';
import type { RunJob } from './run-queue.js';
import type { RunReporter } from './run-reporter.js';

export const newRunId = (now: Date): string =>
  `${now
    .toISOString()
    .replace(/[-:TZ]/g, '')
    .replace('.', '')
    .slice(0, 17)}-${randomBytes(3).toString('hex')}`;

export interface RunExecutorOptions {
  engine: EngineDeps;
  reporter: RunReporter;
  /** The task's stored resource and its connector's valid version, as the controller knows them now. */
  resolve(
    key: string,
  ): { stored: StoredResource<Task>; task: Task; connector: Connector; connectorFile?: string } | undefined;
  onRunStarted?: (task: Task, runId: string, trigger: RunJob['trigger']) => void;
  now: () => Date;
}

export class RunExecutor {
  constructor(private readonly o: RunExecutorOptions) {}

  async execute(job: RunJob): Promise<void> {
    const found = this.o.resolve(job.key);
    if (!found) return;
    const { task, connector, connectorFile } = found;
    const runId = newRunId(this.o.now());
    this.o.onRunStarted?.(task, runId, job.trigger);
    const run: TaskRunSummary = await runTask(this.o.engine, {
      task,
      connector,
      connectorFile,
      runId,
      trigger: job.trigger,
      plannedTime: job.plannedTime,
      signal: job.signal,
      onProgress: (r) => this.o.reporter.progress(job.key, r),
      now: this.o.now,
    });
    this.o.reporter.finished(job.key, run, task);
  }
}
