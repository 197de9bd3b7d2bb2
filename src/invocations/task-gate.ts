/**
 * The task gate (DESIGN §4: invocation server → task gate → connector action): what the invocation service
 * needs to know about tasks and may ask of the scheduler, and nothing else. The service decides what to refuse
 * and why; the gate only answers. `controller/task-gate.ts` implements it over the Controller.
 */
import type { Connector, Task, TaskRunSummary } from '../model/resources.js';
import type { TriggerResult } from '../scheduler/scheduler.js';
import type { StoredResource } from '../store/resource-store.js';

/** Why a task cannot run now (its connector is missing or invalid, the type cannot run it). */
export interface TaskBlocker {
  reason: string;
  message: string;
}

export interface TaskGate {
  /** The task as stored (declared version, valid version if any, findings), or undefined if there is none. */
  task(key: string): StoredResource<Task> | undefined;
  /** The valid version of the task's connector, if there is one. */
  connectorOf(task: Task): Connector | undefined;
  /** The file that declares the task's connector (git-directory mode), for paths relative to it. */
  connectorFile?(task: Task): string | undefined;
  /** Why the task cannot run now, or undefined when nothing blocks it. */
  blocker(stored: StoredResource<Task>): TaskBlocker | undefined;
  /** Whether the task is suspended (its spec, its connector's, or a `provisio suspend`). */
  suspended(stored: StoredResource<Task>): boolean;
  /** Starts a run of a scheduled task now, for a workflow (the `runTask` activity); the scheduler's answer. */
  startRun(key: string): TriggerResult;
  /** The next run of the task to finish, or undefined after the timeout. Ask before `startRun`. */
  nextRunFinished(key: string, timeoutMs: number): Promise<TaskRunSummary | undefined>;
}
