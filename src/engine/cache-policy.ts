/**
 * When the task cache is cleared (DESIGN §2): when the task's mappings change, on request, and at the
 * configured hours (UTC, default 00:00). Applied when a run starts, never mid-run.
 */
import type { Logger } from '../log/logger.js';
import type { Task } from '../model/resources.js';
import type { TaskCache } from '../state/task-cache.js';
import { mappingHash } from './mapper.js';

/** The most recent configured cache-clear time (UTC HH:MM) at or before `now`. */
export function lastClearTime(clearAt: readonly string[], now: Date): Date | undefined {
  let latest: Date | undefined;
  for (const hhmm of clearAt) {
    const [h, m] = hhmm.split(':').map(Number);
    const t = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m));
    if (t > now) t.setUTCDate(t.getUTCDate() - 1);
    if (!latest || t > latest) latest = t;
  }
  return latest;
}

/** Applies the cache clears due before this run. */
export function prepareCache(cache: TaskCache, task: Task, taskKey: string, now: Date, log: Logger): void {
  const meta = cache.meta(taskKey);
  const hash = mappingHash({ mappingsType: task.spec.mappingsType, mappings: task.spec.mappings });
  const due = lastClearTime(task.spec.cache?.clearAt ?? ['00:00'], now);
  let reason: string | undefined;
  if (meta.mappingHash !== undefined && meta.mappingHash !== hash) reason = 'the task mappings changed';
  else if (meta.clearRequested) reason = 'a clear was requested';
  else if (due && (!meta.clearedAt || Date.parse(meta.clearedAt) < due.getTime()))
    reason = 'a scheduled clear time passed';
  if (meta.mappingHash !== hash) cache.setMappingHash(taskKey, hash);
  if (meta.cursorResetRequested) {
    // Only on request: the cursors are what lets an incremental task continue, and a plain clear keeps them.
    cache.setCursors(taskKey, {});
    log.info('incremental cursors reset on request: every kind is read in full in this run');
  }
  if (reason) {
    cache.clear(taskKey, now);
    log.info({ reason }, `task cache cleared because ${reason}: every record is loaded again`);
  }
}
