/**
 * The Task reconciler: keeps the scheduler in line with a task's valid version, handles the operation
 * annotations (run now, stop, clear cache), and writes the task's status (phase, next run, cache,
 * cursors, conditions) with the generation it applied.
 */
import type { Logger } from '../log/logger.js';
import { setConditions } from '../model/conditions.js';
import type { Task } from '../model/resources.js';
import { ANNOTATIONS, namespaceOf } from '../model/resources.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { StatusStore } from '../state/status-store.js';
import type { TaskCache } from '../state/task-cache.js';
import type { ResourceStore, StoredResource } from '../store/resource-store.js';
import type { ResourceLookup } from './resource-lookup.js';
import { recordApplied, type StatusRecords, type TaskRecord } from './status-records.js';
import { type Blocker, taskConditions } from './task-status.js';

export interface TaskReconcilerOptions {
  store: ResourceStore;
  statuses: StatusStore;
  records: StatusRecords;
  lookup: ResourceLookup;
  scheduler: Scheduler;
  cache: TaskCache;
  log: Logger;
  now: () => Date;
  clearCache(key: string, options?: { cursors?: boolean }): void;
}

export class TaskReconciler {
  constructor(private readonly o: TaskReconcilerOptions) {}

  reconcile(key: string): void {
    const stored = this.o.store.get<Task>('Task', key);
    if (!stored) return;
    const rec = this.o.records.next<Task['status']>('Task', stored) as TaskRecord;
    const task = stored.effective;
    const blocker = this.o.lookup.blocker(stored);
    const suspended = this.o.lookup.suspended(stored);
    if (task && task.spec.usage === 'scheduled' && !blocker) {
      this.o.scheduler.upsert({ key, schedule: task.spec.schedule, suspended });
      this.handleAnnotations(key, task, rec);
    } else {
      this.o.scheduler.remove(key);
    }
    if (task?.spec.usage === 'event') {
      rec.status.endpoint = `/api/v1/namespaces/${namespaceOf(task)}/tasks/${task.metadata.name}/invoke`;
    }
    this.writeStatus(key, stored, rec, blocker, suspended);
  }

  removed(key: string): void {
    this.o.scheduler.remove(key);
    this.o.statuses.delete('Task', key);
    // A task created again under this name starts afresh: no cache entries, misses or cursors of the old one.
    this.o.cache.drop(key);
  }

  /** Rewrites the status after the scheduler's state or a run's record moved. */
  refresh(key: string, rec = this.o.records.task(key)): void {
    const stored = this.o.store.get<Task>('Task', key);
    if (!rec || !stored) return;
    this.writeStatus(key, stored, rec, undefined, this.o.lookup.suspended(stored));
  }

  private handleAnnotations(key: string, task: Task, rec: TaskRecord): void {
    const a = task.metadata.annotations ?? {};
    const requested = a[ANNOTATIONS.requestedAt];
    if (requested && requested !== rec.status.lastHandledReconcileAt) {
      const answer = this.o.scheduler.trigger(key, 'manual');
      this.o.log.info({ task: key, requestedAt: requested, answer }, 'run requested by annotation');
      rec.status.lastHandledReconcileAt = requested;
    }
    const stopAt = a[ANNOTATIONS.stopRequestedAt];
    if (stopAt && stopAt !== (rec.status.lastHandledStopAt ?? rec.handledStopAt)) {
      this.o.scheduler.stop(key);
      rec.status.lastHandledStopAt = stopAt;
    }
    const clearAt = a[ANNOTATIONS.clearCacheRequestedAt];
    if (clearAt && clearAt !== (rec.status.lastHandledClearCacheAt ?? rec.handledClearCacheAt)) {
      this.o.clearCache(key);
      rec.status.lastHandledClearCacheAt = clearAt;
    }
    const cursorAt = a[ANNOTATIONS.clearCursorRequestedAt];
    if (cursorAt && cursorAt !== rec.status.lastHandledClearCursorAt) {
      this.o.clearCache(key, { cursors: true });
      rec.status.lastHandledClearCursorAt = cursorAt;
    }
    delete rec.handledStopAt;
    delete rec.handledClearCacheAt;
  }

  private writeStatus(
    key: string,
    stored: StoredResource<Task>,
    rec: TaskRecord,
    blocker?: Blocker,
    suspended = false,
  ) {
    const state = this.o.scheduler.state(key);
    const status = rec.status;
    recordApplied(status, rec.generation, stored);
    status.phase = suspended ? 'Suspended' : (state?.phase ?? 'Idle');
    if (state?.nextRunTime && !suspended) status.nextRunTime = state.nextRunTime.toISOString();
    else delete status.nextRunTime;
    const meta = this.o.cache.meta(key);
    status.cache = { ...(meta.clearedAt ? { clearedAt: meta.clearedAt } : {}), entries: this.o.cache.entries(key) };
    if (Object.keys(meta.cursors).length > 0) status.cursors = meta.cursors;
    else delete status.cursors;
    status.conditions = setConditions(
      status.conditions,
      taskConditions(stored, blocker, status, suspended),
      rec.generation,
      this.o.now(),
    );
    this.o.statuses.write('Task', key, rec);
  }
}
