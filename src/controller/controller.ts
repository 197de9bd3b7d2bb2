/**
 * The controller: keeps the scheduler in line with the desired state, runs tasks through the
 * engine, handles operations (run now, stop, clear cache, suspend, resume) and records status.
 * The same class serves git mode and, with another source and status writer, Kubernetes mode.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { builtInConnectorTypes, type ConnectorRegistry, connectorType } from '../connectors/registry.js';
import { type EngineDeps, type RunTrigger, runTask } from '../engine/run-task.js';
import type { Logger } from '../log/logger.js';
import { REASONS, setConditions } from '../model/conditions.js';
import type { Connector, ConnectorStatus, Kind, Task, TaskRunSummary, TaskStatus } from '../model/resources.js';
import { ANNOTATIONS, namespaceOf, refKey } from '../model/resources.js';
import { type JobState, Scheduler } from '../scheduler/scheduler.js';
import type { SecretResolver } from '../secrets/resolver.js';
import type { StatusRecord, StatusStore } from '../state/status-store.js';
import type { TaskCache } from '../state/task-cache.js';
import type { ResourceStore, StoredResource, StoreEvent } from '../store/resource-store.js';
import { sharedTarget, type Target, type TargetFactory } from '../targets/types.js';
import {
  type Blocker,
  connectorConditions,
  connectorHealth,
  onlyConnectorRefFindings,
  runInProgress,
  runSucceeded,
  taskConditions,
} from './task-status.js';

export interface ControllerOptions {
  store: ResourceStore;
  statuses: StatusStore;
  cache: TaskCache;
  target: Target;
  /** Each connector's target; defaults to `target` for every connector. */
  targets?: TargetFactory;
  connectorTypes?: ConnectorRegistry;
  secrets: SecretResolver;
  log: Logger;
  stateDir: string;
  concurrency?: number;
  now?: () => Date;
  /** Told about every finished run (metrics, events). */
  onRunStarted?: (task: Task, runId: string, trigger: RunTrigger) => void;
  onRunFinished?: (task: Task, run: TaskRunSummary) => void;
  /**
   * Status is shared between replicas (Kubernetes mode): a task whose last run in status is not the last run
   * this replica's task cache saw ran elsewhere, so the cache is cleared and the watermark taken from status.
   */
  sharedStatus?: boolean;
}

/** Where git mode kept the handled stop and clear-cache markers before they moved into status (read only). */
interface TaskRecordExtra {
  handledStopAt?: string;
  handledClearCacheAt?: string;
}

type TaskRecord = StatusRecord<TaskStatus> & TaskRecordExtra;

const HISTORY = 10;

export const newRunId = (now: Date): string =>
  `${now
    .toISOString()
    .replace(/[-:TZ]/g, '')
    .replace('.', '')
    .slice(0, 17)}-${randomBytes(3).toString('hex')}`;

const specHash = (spec: unknown): string =>
  createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);

export class Controller {
  readonly scheduler: Scheduler;
  /** `finished` (task key, run) after every run is recorded. */
  readonly runs = new EventEmitter<{ finished: [string, TaskRunSummary] }>();
  private readonly engine: EngineDeps;
  private readonly now: () => Date;
  private readonly onChange = (e: StoreEvent) => this.handle(e);

  constructor(private readonly opts: ControllerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.engine = {
      targets: opts.targets ?? sharedTarget(opts.target),
      connectorTypes: opts.connectorTypes ?? builtInConnectorTypes,
      cache: opts.cache,
      secrets: opts.secrets,
      log: opts.log,
      artifactsRoot: join(opts.stateDir, 'artifacts'),
    };
    this.scheduler = new Scheduler({
      concurrency: opts.concurrency ?? 6,
      run: (req) => this.execute(req.key, req.runTrigger as RunTrigger, req.plannedTime, req.signal),
      onStateChange: (key, state) => this.onSchedulerState(key, state),
      log: opts.log,
    });
  }

  /** Recovers interrupted runs, reconciles everything, and starts scheduling. */
  start(): void {
    this.recoverInterruptedRuns();
    if (this.opts.sharedStatus) this.adoptRunsOfOtherReplicas();
    for (const kind of ['Connector', 'Task'] as const) {
      for (const r of this.opts.store.list(kind)) this.reconcile(kind, r.key);
    }
    this.removeOrphans();
    this.opts.store.on('change', this.onChange);
    this.scheduler.start();
  }

  async close(): Promise<void> {
    this.opts.store.off('change', this.onChange);
    await this.scheduler.close();
  }

  /** Runs every schedulable scheduled task once (`--once`); answers the keys whose run failed. */
  async runOnce(): Promise<{ ran: string[]; failed: string[] }> {
    const keys = this.opts.store
      .list<Task>('Task')
      .filter((t) => t.effective?.spec.usage === 'scheduled' && !this.blocker(t) && !this.suspended(t))
      .map((t) => t.key);
    await this.scheduler.runAll(keys, 'manual');
    const failed = keys.filter((k) => !runSucceeded(this.peekTaskRecord(k)?.status.lastRun));
    return { ran: keys, failed };
  }

  // ---- operations (CLI verbs and annotations) -------------------------------------------------

  trigger(key: string): string {
    return this.scheduler.trigger(key, 'manual');
  }

  stop(key: string): boolean {
    return this.scheduler.stop(key);
  }

  clearCache(key: string): void {
    this.opts.cache.requestClear(key);
    this.opts.log.info({ task: key }, 'cache clear requested: it is applied when the next run starts');
  }

  setSuspended(key: string, suspended: boolean): void {
    const rec = this.taskRecord(key);
    if (!rec) throw new Error(`task ${key} not found`);
    rec.suspendOverride = suspended ? true : undefined;
    this.opts.statuses.write('Task', key, rec);
    this.reconcile('Task', key);
  }

  // ---- reconciliation -------------------------------------------------------------------------

  private handle(e: StoreEvent): void {
    if (e.type === 'deleted') {
      if (e.kind === 'Task') {
        this.scheduler.remove(e.key);
        this.opts.statuses.delete('Task', e.key);
      } else this.opts.statuses.delete('Connector', e.key);
    } else this.reconcile(e.kind, e.key);
    // A connector change can block or unblock its tasks; a task change moves its connector's counts.
    if (e.kind === 'Connector') {
      for (const t of this.tasksOf(e.key)) this.reconcile('Task', t.key);
    } else {
      const t = this.opts.store.get<Task>('Task', e.key);
      const c = t?.effective ?? t?.declared;
      if (c?.spec?.connectorRef?.name) this.reconcile('Connector', refKey(namespaceOf(c), c.spec.connectorRef.name));
    }
  }

  private reconcile(kind: Kind, key: string): void {
    try {
      if (kind === 'Task') this.reconcileTask(key);
      else this.reconcileConnector(key);
    } catch (e) {
      this.opts.log.error({ err: e, resource: `${kind} ${key}` }, 'reconcile failed');
    }
  }

  /** The next run of a task to finish, or undefined after the timeout. Subscribe before triggering. */
  nextRunFinished(key: string, timeoutMs: number): Promise<TaskRunSummary | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.runs.off('finished', listener);
        resolve(undefined);
      }, timeoutMs);
      const listener = (k: string, run: TaskRunSummary) => {
        if (k !== key) return;
        clearTimeout(timer);
        this.runs.off('finished', listener);
        resolve(run);
      };
      this.runs.on('finished', listener);
    });
  }

  connectorFor(task: Task): StoredResource<Connector> | undefined {
    return this.opts.store.get<Connector>('Connector', refKey(namespaceOf(task), task.spec.connectorRef.name));
  }

  private tasksOf(connectorKey: string): StoredResource<Task>[] {
    return this.opts.store.list<Task>('Task').filter((t) => {
      const task = t.effective ?? t.declared;
      return task?.spec?.connectorRef && refKey(namespaceOf(task), task.spec.connectorRef.name) === connectorKey;
    });
  }

  blocker(stored: StoredResource<Task>): Blocker | undefined {
    const task = stored.effective;
    if (!task) {
      const waiting = onlyConnectorRefFindings(stored) ? this.connectorBlocker(stored.declared) : undefined;
      return waiting ?? { reason: REASONS.SchemaInvalid, message: 'no valid version of this task exists yet' };
    }
    const waiting = this.connectorBlocker(task);
    if (waiting) return waiting;
    const connector = this.connectorFor(task)!.effective!;
    const type = connectorType(connector.spec.type);
    if (task.spec.usage === 'scheduled' && !type.extract) {
      return {
        reason: REASONS.UnsupportedConnector,
        message: `scheduled tasks of ${connector.spec.type} connectors cannot run yet in this version of Provisio`,
      };
    }
    return undefined;
  }

  private connectorBlocker(task: Task): Blocker | undefined {
    const conn = this.connectorFor(task);
    if (conn?.effective) return undefined;
    return {
      reason: REASONS.ConnectorNotReady,
      message: conn
        ? `Connector "${task.spec.connectorRef.name}" is invalid: ${conn.errors[0]?.message ?? 'see its status'}`
        : `Connector "${task.spec.connectorRef.name}" not found in namespace "${namespaceOf(task)}"`,
    };
  }

  suspended(stored: StoredResource<Task>): boolean {
    const task = stored.effective;
    const conn = task ? this.connectorFor(task)?.effective : undefined;
    return !!(task?.spec.suspend || conn?.spec.suspend || this.peekTaskRecord(stored.key)?.suspendOverride);
  }

  /** A copy of the task's status record, to change and write back. */
  private taskRecord(key: string): TaskRecord | undefined {
    return this.opts.statuses.read<TaskStatus>('Task', key) as TaskRecord | undefined;
  }

  /** The task's status record for reading only (no copy: suspended() runs on every invocation). */
  private peekTaskRecord(key: string): Readonly<TaskRecord> | undefined {
    return this.opts.statuses.peek<TaskStatus>('Task', key) as Readonly<TaskRecord> | undefined;
  }

  /**
   * The record to update, with the generation of the spec being reconciled: the API server's in Kubernetes
   * mode; in git mode counted as an API server would (+1 whenever the spec changes).
   */
  private nextRecord<S>(kind: Kind, stored: StoredResource): StatusRecord<S> {
    const rec = this.opts.statuses.read<S>(kind, stored.key) ?? { status: {} as S, generation: 0 };
    if (stored.generation !== undefined) {
      rec.generation = stored.generation;
      return rec;
    }
    const hash = specHash(stored.declared.spec);
    if (rec.specHash !== hash) {
      rec.generation += 1;
      rec.specHash = hash;
    }
    return rec;
  }

  private reconcileTask(key: string): void {
    const stored = this.opts.store.get<Task>('Task', key);
    if (!stored) return;
    const rec = this.nextRecord<TaskStatus>('Task', stored) as TaskRecord;
    const task = stored.effective;
    const blocker = this.blocker(stored);
    const suspended = this.suspended(stored);
    if (task && task.spec.usage === 'scheduled' && !blocker) {
      this.scheduler.upsert({ key, schedule: task.spec.schedule, suspended });
      this.handleAnnotations(key, task, rec);
    } else {
      this.scheduler.remove(key);
    }
    if (task?.spec.usage === 'event') {
      rec.status.endpoint = `/api/v1/namespaces/${namespaceOf(task)}/tasks/${task.metadata.name}/invoke`;
    }
    this.writeTaskStatus(key, stored, rec, blocker, suspended);
  }

  private handleAnnotations(key: string, task: Task, rec: TaskRecord): void {
    const a = task.metadata.annotations ?? {};
    const requested = a[ANNOTATIONS.requestedAt];
    if (requested && requested !== rec.status.lastHandledReconcileAt) {
      const answer = this.scheduler.trigger(key, 'manual');
      this.opts.log.info({ task: key, requestedAt: requested, answer }, 'run requested by annotation');
      rec.status.lastHandledReconcileAt = requested;
    }
    const stopAt = a[ANNOTATIONS.stopRequestedAt];
    if (stopAt && stopAt !== (rec.status.lastHandledStopAt ?? rec.handledStopAt)) {
      this.scheduler.stop(key);
      rec.status.lastHandledStopAt = stopAt;
    }
    const clearAt = a[ANNOTATIONS.clearCacheRequestedAt];
    if (clearAt && clearAt !== (rec.status.lastHandledClearCacheAt ?? rec.handledClearCacheAt)) {
      this.clearCache(key);
      rec.status.lastHandledClearCacheAt = clearAt;
    }
    delete rec.handledStopAt;
    delete rec.handledClearCacheAt;
  }

  private writeTaskStatus(
    key: string,
    stored: StoredResource<Task>,
    rec: TaskRecord,
    blocker?: Blocker,
    suspended = false,
  ) {
    const state = this.scheduler.state(key);
    const status = rec.status;
    status.observedGeneration = rec.generation;
    status.phase = suspended ? 'Suspended' : (state?.phase ?? 'Idle');
    if (state?.nextRunTime && !suspended) status.nextRunTime = state.nextRunTime.toISOString();
    else delete status.nextRunTime;
    const meta = this.opts.cache.meta(key);
    status.cache = { ...(meta.clearedAt ? { clearedAt: meta.clearedAt } : {}), entries: this.opts.cache.entries(key) };
    if (Object.keys(meta.cursors).length > 0) status.cursors = meta.cursors;
    else delete status.cursors;
    status.conditions = setConditions(
      status.conditions,
      taskConditions(stored, blocker, status, suspended),
      rec.generation,
      this.now(),
    );
    this.opts.statuses.write('Task', key, rec);
  }

  private reconcileConnector(key: string): void {
    const stored = this.opts.store.get<Connector>('Connector', key);
    if (!stored) return;
    const rec = this.nextRecord<ConnectorStatus>('Connector', stored);
    const tasks = this.tasksOf(key).map((t) => t.effective ?? t.declared);
    const scheduled = this.tasksOf(key).filter((t) => (t.effective ?? t.declared).spec?.usage === 'scheduled');
    const health = connectorHealth(
      scheduled.map((t) => {
        const s = this.peekTaskRecord(t.key)?.status;
        return [s?.lastRun, ...(s?.history ?? [])].find((r) => r && !runInProgress(r));
      }),
    );
    const status = rec.status;
    status.observedGeneration = rec.generation;
    status.health = health;
    status.scheduledTasks = scheduled.length;
    status.eventTasks = tasks.filter((t) => t.spec?.usage === 'event').length;
    status.conditions = setConditions(
      status.conditions,
      connectorConditions(stored, health),
      rec.generation,
      this.now(),
    );
    this.opts.statuses.write('Connector', key, rec);
  }

  private onSchedulerState(key: string, state: JobState): void {
    const rec = this.taskRecord(key);
    const stored = this.opts.store.get<Task>('Task', key);
    if (!rec || !stored) return;
    this.writeTaskStatus(key, stored, rec, undefined, this.suspended(stored));
    void state;
  }

  // ---- runs -----------------------------------------------------------------------------------

  private async execute(key: string, trigger: RunTrigger, plannedTime: Date, signal: AbortSignal): Promise<void> {
    const stored = this.opts.store.get<Task>('Task', key);
    const task = stored?.effective;
    const connector = task ? this.connectorFor(task)?.effective : undefined;
    if (!stored || !task || !connector) return;
    const runId = newRunId(this.now());
    this.opts.onRunStarted?.(task, runId, trigger);
    const record = (run: TaskRunSummary, final: boolean) => {
      const rec = this.taskRecord(key) ?? { status: {}, generation: 1 };
      if (final) {
        rec.status.history = [run, ...(rec.status.history ?? []).filter((h) => h.id !== run.id)].slice(0, HISTORY);
      }
      rec.status.lastRun = run;
      this.opts.statuses.write('Task', key, rec);
      this.writeTaskStatus(key, stored, rec as TaskRecord, undefined, this.suspended(stored));
    };
    const run = await runTask(this.engine, {
      task,
      connector,
      runId,
      trigger,
      plannedTime,
      signal,
      onProgress: (r) => record(r, false),
      now: this.now,
    });
    record(run, true);
    this.opts.cache.setLastRun(key, run.id ?? runId);
    this.opts.onRunFinished?.(task, run);
    this.runs.emit('finished', key, run);
    this.reconcileConnector(refKey(namespaceOf(task), task.spec.connectorRef.name));
  }

  /** A run still marked running at startup was cut off by a crash or kill: record it as failed. */
  private recoverInterruptedRuns(): void {
    for (const key of this.opts.statuses.keys('Task')) {
      const rec = this.taskRecord(key);
      const run = rec?.status.lastRun;
      if (!rec || !run || !runInProgress(run)) continue;
      const at = this.now().toISOString();
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
      this.opts.statuses.write('Task', key, rec);
      this.opts.log.warn({ task: key, run: run.id }, 'recorded an interrupted run as failed');
    }
  }

  /**
   * After a failover, or a restart on a fresh disk: the task cache says what this replica loaded, but another
   * replica may have loaded since. Trusting it could skip a record that changed back to what this cache
   * remembers, so it is cleared (the next run loads every record once) and the incremental cursors are taken
   * from status, where every leader records it.
   */
  private adoptRunsOfOtherReplicas(): void {
    for (const stored of this.opts.store.list<Task>('Task')) {
      const status = this.peekTaskRecord(stored.key)?.status;
      const lastRun = status?.lastRun?.id;
      const meta = this.opts.cache.meta(stored.key);
      if (!lastRun || meta.lastRunId === lastRun) continue;
      this.opts.cache.clear(stored.key, this.now());
      if (status?.cursors) this.opts.cache.setCursors(stored.key, status.cursors);
      this.opts.cache.setLastRun(stored.key, lastRun);
      this.opts.log.info(
        { task: stored.key, run: lastRun },
        `task ${stored.key} last ran on another replica (run ${lastRun}): its cache is cleared, so the next run loads every record once`,
      );
    }
  }

  /** Status files of resources that no longer exist in the source. */
  private removeOrphans(): void {
    for (const kind of ['Connector', 'Task'] as const) {
      for (const key of this.opts.statuses.keys(kind)) {
        if (!this.opts.store.get(kind, key)) this.opts.statuses.delete(kind, key);
      }
    }
  }
}
