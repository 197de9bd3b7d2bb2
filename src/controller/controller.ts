/**
 * The controller: the composition root of one replica's control loop. It routes store changes to the
 * reconcilers (one per kind), hands scheduled runs through the run queue to the run executor, reports runs
 * into status, and serves the operations (run now, stop, clear cache, suspend, resume). The same class
 * serves git mode and, with another source and status writer, Kubernetes mode.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { builtInConnectorTypes, type ConnectorRegistry } from '../connectors/registry.js';
import type { EngineDeps, RunTrigger } from '../engine/run-task.js';
import type { Logger } from '../log/logger.js';
import type { Connector, ConnectorStatus, Kind, Task, TaskRunSummary } from '../model/resources.js';
import { namespaceOf, refKey } from '../model/resources.js';
import { runSucceeded } from '../model/run-outcome.js';
import { Scheduler } from '../scheduler/scheduler.js';
import type { SecretResolver } from '../secrets/resolver.js';
import type { StatusStore } from '../state/status-store.js';
import type { TaskCache } from '../state/task-cache.js';
import { declaredFile, type ResourceStore, type StoredResource, type StoreEvent } from '../store/resource-store.js';
import type { TargetFactory } from '../targets/types.js';
import { ConnectorReconciler } from './connector-reconciler.js';
import { ResourceLookup } from './resource-lookup.js';
import { RunExecutor } from './run-executor.js';
import { inProcessRunQueue, type RunQueue } from './run-queue.js';
import type { RunReporter } from './run-reporter.js';
import { adoptRunsOfOtherReplicas, HISTORY, recoverInterruptedRuns, removeOrphans } from './startup-recovery.js';
import { StatusRecords } from './status-records.js';
import { TaskReconciler } from './task-reconciler.js';
import type { Blocker } from './task-status.js';

export { newRunId } from './run-executor.js';

export interface ControllerOptions {
  store: ResourceStore;
  statuses: StatusStore;
  cache: TaskCache;
  /** Each connector's target (with its own webApi credentials for the home solution's target). */
  targets: TargetFactory;
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
   * this replica's task cache saw ran elsewhere, so the cache is cleared and the cursors taken from status.
   */
  sharedStatus?: boolean;
  /** Run each valid connector's connection check into status.connection (default true). */
  checkConnections?: boolean;
  /** How often connections are checked again, which also notices rotated secrets (default 5 minutes). */
  connectionCheckIntervalMs?: number;
  /** How often a long run logs its progress at info (default 10 s). */
  progressLogEveryMs?: number;
}

export class Controller {
  readonly scheduler: Scheduler;
  /** `finished` (task key, run) after every run is recorded. */
  readonly runs = new EventEmitter<{ finished: [string, TaskRunSummary] }>();
  readonly connectors: ConnectorReconciler;
  private readonly tasks: TaskReconciler;
  private readonly lookup: ResourceLookup;
  private readonly records: StatusRecords;
  private readonly queue: RunQueue;
  private readonly now: () => Date;
  private readonly onChange = (e: StoreEvent) => this.handle(e);
  private recheck: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ControllerOptions) {
    this.now = opts.now ?? (() => new Date());
    const types = opts.connectorTypes ?? builtInConnectorTypes;
    this.records = new StatusRecords(opts.statuses);
    this.lookup = new ResourceLookup(opts.store, this.records, types);
    const engine: EngineDeps = {
      targets: opts.targets,
      connectorTypes: types,
      cache: opts.cache,
      secrets: opts.secrets,
      log: opts.log,
      artifactsRoot: join(opts.stateDir, 'artifacts'),
      progressLogEveryMs: opts.progressLogEveryMs,
    };
    const executor = new RunExecutor({
      engine,
      reporter: this.reporter(),
      resolve: (key) => this.runnable(key),
      onRunStarted: opts.onRunStarted,
      now: this.now,
    });
    this.queue = inProcessRunQueue(executor);
    this.scheduler = new Scheduler({
      concurrency: opts.concurrency ?? 6,
      run: (req) =>
        this.queue.run({
          key: req.key,
          trigger: req.runTrigger as RunTrigger,
          plannedTime: req.plannedTime,
          signal: req.signal,
        }),
      onStateChange: (key) => this.tasks.refresh(key),
      log: opts.log,
    });
    const common = {
      store: opts.store,
      statuses: opts.statuses,
      records: this.records,
      lookup: this.lookup,
      log: opts.log,
      now: this.now,
    };
    this.tasks = new TaskReconciler({
      ...common,
      scheduler: this.scheduler,
      cache: opts.cache,
      clearCache: (k, o) => this.clearCache(k, o),
    });
    this.connectors = new ConnectorReconciler({
      ...common,
      types,
      secrets: opts.secrets,
      checkConnections: opts.checkConnections ?? true,
    });
  }

  /** Recovers interrupted runs, reconciles everything, and starts scheduling. */
  start(): void {
    const recovery = { ...this.opts, records: this.records, now: this.now };
    recoverInterruptedRuns(recovery);
    if (this.opts.sharedStatus) adoptRunsOfOtherReplicas(recovery);
    for (const kind of ['Connector', 'Task'] as const) {
      for (const r of this.opts.store.list(kind)) this.reconcile(kind, r.key);
    }
    removeOrphans(recovery);
    this.opts.store.on('change', this.onChange);
    this.scheduler.start();
    if (this.opts.checkConnections ?? true) {
      this.recheck = setInterval(
        () => void this.connectors.refreshAll(),
        this.opts.connectionCheckIntervalMs ?? 300_000,
      );
      this.recheck.unref();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.recheck);
    this.opts.store.off('change', this.onChange);
    await this.scheduler.close();
    await this.connectors.settle();
  }

  /** Runs every schedulable scheduled task once (`--once`); answers the keys whose run failed. */
  async runOnce(): Promise<{ ran: string[]; failed: string[] }> {
    const keys = this.opts.store
      .list<Task>('Task')
      .filter((t) => t.effective?.spec.usage === 'scheduled' && !this.blocker(t) && !this.suspended(t))
      .map((t) => t.key);
    await this.scheduler.runAll(keys, 'manual');
    const failed = keys.filter((k) => !runSucceeded(this.records.peekTask(k)?.status.lastRun));
    return { ran: keys, failed };
  }

  // ---- operations (CLI verbs and annotations) -------------------------------------------------

  trigger(key: string): string {
    return this.scheduler.trigger(key, 'manual');
  }

  stop(key: string): boolean {
    return this.scheduler.stop(key);
  }

  clearCache(key: string, options: { cursors?: boolean } = {}): void {
    this.opts.cache.requestClear(key, options);
    const what = options.cursors ? 'cache clear and cursor reset' : 'cache clear';
    this.opts.log.info({ task: key }, `${what} requested: it is applied when the next run starts`);
  }

  setSuspended(key: string, suspended: boolean): void {
    const rec = this.records.task(key);
    if (!rec) throw new Error(`task ${key} not found`);
    rec.suspendOverride = suspended ? true : undefined;
    this.opts.statuses.write('Task', key, rec);
    this.reconcile('Task', key);
  }

  /** Checks the connector's connection now (`provisio test-connection`); the answer is also in its status. */
  async testConnection(key: string): Promise<ConnectorStatus['connection']> {
    await this.connectors.refresh(key, true);
    return this.opts.statuses.read<ConnectorStatus>('Connector', key)?.status.connection;
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
    return this.lookup.connectorFor(task);
  }

  blocker(stored: StoredResource<Task>): Blocker | undefined {
    return this.lookup.blocker(stored);
  }

  suspended(stored: StoredResource<Task>): boolean {
    return this.lookup.suspended(stored);
  }

  // ---- reconciliation -------------------------------------------------------------------------

  private handle(e: StoreEvent): void {
    if (e.type === 'deleted') {
      if (e.kind === 'Task') this.tasks.removed(e.key);
      else this.connectors.removed(e.key);
    } else this.reconcile(e.kind, e.key);
    // A connector change can block or unblock its tasks; a task change moves its connector's counts.
    if (e.kind === 'Connector') {
      for (const t of this.lookup.tasksOf(e.key)) this.reconcile('Task', t.key);
    } else {
      const t = this.opts.store.get<Task>('Task', e.key);
      const c = t?.effective ?? t?.declared;
      if (c?.spec?.connectorRef?.name) this.reconcile('Connector', refKey(namespaceOf(c), c.spec.connectorRef.name));
    }
  }

  private reconcile(kind: Kind, key: string): void {
    try {
      if (kind === 'Task') this.tasks.reconcile(key);
      else this.connectors.reconcile(key);
    } catch (e) {
      this.opts.log.error({ err: e, resource: `${kind} ${key}` }, 'reconcile failed');
    }
  }

  // ---- runs -----------------------------------------------------------------------------------

  private runnable(key: string) {
    const stored = this.opts.store.get<Task>('Task', key);
    const task = stored?.effective;
    const connectorStored = task ? this.lookup.connectorFor(task) : undefined;
    const connector = connectorStored?.effective;
    const connectorFile = declaredFile(connectorStored);
    return stored && task && connector ? { stored, task, connector, connectorFile } : undefined;
  }

  /** Runs are recorded in the task's status: lastRun as it moves, history when it ends. */
  private reporter(): RunReporter {
    const record = (key: string, run: TaskRunSummary, final: boolean) => {
      const rec = this.records.task(key) ?? { status: {}, generation: 1 };
      if (final) {
        rec.status.history = [run, ...(rec.status.history ?? []).filter((h) => h.id !== run.id)].slice(0, HISTORY);
      }
      rec.status.lastRun = run;
      this.opts.statuses.write('Task', key, rec);
      this.tasks.refresh(key, rec);
    };
    return {
      progress: (key, run) => record(key, run, false),
      finished: (key, run, task) => {
        record(key, run, true);
        if (run.id) this.opts.cache.setLastRun(key, run.id);
        this.opts.onRunFinished?.(task, run);
        this.reconcile('Connector', refKey(namespaceOf(task), task.spec.connectorRef.name));
        this.runs.emit('finished', key, run);
      },
    };
  }
}
