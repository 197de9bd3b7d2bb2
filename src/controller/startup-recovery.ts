/**
 * What the controller puts right when it starts, before it schedules anything: runs cut off by a crash,
 * runs another replica made since this one's cache was written, and status of resources that are gone.
 */
import type { Logger } from '../log/logger.js';
import type { Task } from '../model/resources.js';
import { runInProgress } from '../model/run-outcome.js';
import type { StatusStore } from '../state/status-store.js';
import type { TaskCache } from '../state/task-cache.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { StatusRecords } from './status-records.js';

export const HISTORY = 10;

export interface RecoveryDeps {
  store: ResourceStore;
  statuses: StatusStore;
  records: StatusRecords;
  cache: TaskCache;
  log: Logger;
  now: () => Date;
}

/** A run still marked running at startup was cut off by a crash or kill: record it as failed. */
export function recoverInterruptedRuns(d: RecoveryDeps): void {
  for (const key of d.statuses.keys('Task')) {
    const rec = d.records.task(key);
    const run = rec?.status.lastRun;
    if (!rec || !run || !runInProgress(run)) continue;
    const at = d.now().toISOString();
    const note = 'interrupted: the controller stopped during this run; it runs again at its next schedule';
    if (run.extract?.status === 'Running') {
      run.extract.status = 'Failed';
      run.extract.completionTime = at;
      run.extract.info = `${note} (read ${run.extract.records ?? 0} records)`;
    }
    if (run.load) {
      run.load.status = 'Failed';
      run.load.completionTime = at;
      run.load.info = `${note}; deletion marking skipped`;
    }
    rec.status.history = [run, ...(rec.status.history ?? []).filter((h) => h.id !== run.id)].slice(0, HISTORY);
    d.statuses.write('Task', key, rec);
    d.log.warn({ task: key, run: run.id }, 'recorded an interrupted run as failed');
  }
}

/**
 * After a failover, or a restart on a fresh disk: the task cache says what this replica loaded, but another
 * replica may have loaded since. Trusting it could skip a record that changed back to what this cache
 * remembers, so it is cleared (the next run loads every record once) and the incremental cursors are taken
 * from status, where every leader records them.
 */
export function adoptRunsOfOtherReplicas(d: RecoveryDeps): void {
  for (const stored of d.store.list<Task>('Task')) {
    const status = d.records.peekTask(stored.key)?.status;
    const lastRun = status?.lastRun?.id;
    const meta = d.cache.meta(stored.key);
    if (!lastRun || meta.lastRunId === lastRun) continue;
    d.cache.clear(stored.key, d.now());
    if (status?.cursors) d.cache.setCursors(stored.key, status.cursors);
    d.cache.setLastRun(stored.key, lastRun);
    d.log.info(
      { task: stored.key, run: lastRun },
      `task ${stored.key} last ran on another replica (run ${lastRun}): its cache is cleared, so the next run loads every record once`,
    );
  }
}

/** Status files of resources that no longer exist in the source. */
export function removeOrphans(d: RecoveryDeps): void {
  for (const kind of ['Connector', 'Task'] as const) {
    for (const key of d.statuses.keys(kind)) {
      if (!d.store.get(kind, key)) d.statuses.delete(kind, key);
    }
  }
}
