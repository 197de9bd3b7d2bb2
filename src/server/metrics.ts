/**
 * Prometheus metrics of the controller. They implement the metrics ports of the layers below: the runtime's
 * RunMetrics (every finished scheduled run) and the invocation service's InvocationMetrics.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RunMetrics } from '../controller/runtime.js';
import { runSucceeded } from '../controller/task-status.js';
import type { InvocationLabels, InvocationMetrics } from '../invocations/invocation-service.js';
import { conditionOf } from '../model/conditions.js';
import type { Condition, Task, TaskRunSummary, TaskStatus } from '../model/resources.js';
import { namespaceOf } from '../model/resources.js';
import type { StatusStore } from '../state/status-store.js';
import type { ResourceStore } from '../store/resource-store.js';

/** Where the gauges that describe resources read them at each scrape. */
interface ResourceSource {
  store: ResourceStore;
  statuses: StatusStore;
}

const splitKey = (key: string): { namespace: string; name: string } => {
  const at = key.indexOf('/');
  return { namespace: key.slice(0, at), name: key.slice(at + 1) };
};

/** When a run that succeeded ended (its load's completion; older records: the extract's). */
const succeededAt = (run: TaskRunSummary): number | undefined => {
  const t = Date.parse(run.load?.completionTime ?? run.extract?.completionTime ?? run.startTime ?? '');
  return Number.isNaN(t) ? undefined : t / 1000;
};

export class Metrics implements RunMetrics, InvocationMetrics {
  readonly registry = new Registry();
  readonly runs = new Counter({
    name: 'provisio_task_runs_total',
    help: 'Scheduled task runs, by result (Succeeded, Failed, Stopped)',
    labelNames: ['namespace', 'task', 'result'] as const,
    registers: [this.registry],
  });
  readonly runDuration = new Histogram({
    name: 'provisio_task_run_duration_seconds',
    help: 'Duration of scheduled task runs',
    labelNames: ['namespace', 'task'] as const,
    buckets: [1, 5, 15, 60, 300, 900, 3600, 7200],
    registers: [this.registry],
  });
  readonly cards = new Counter({
    name: 'provisio_cards_written_total',
    help: 'Data cards written by loads, by operation (created, updated, deleted)',
    labelNames: ['namespace', 'task', 'operation'] as const,
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: 'provisio_records_extracted_total',
    help: 'Records extracted from sources',
    labelNames: ['namespace', 'task'] as const,
    registers: [this.registry],
  });

  readonly invocations = new Counter({
    name: 'provisio_invocations_total',
    help: 'Event task invocations, by activity and state (Completed, Exception)',
    labelNames: ['namespace', 'task', 'activity', 'state'] as const,
    registers: [this.registry],
  });
  readonly invocationDuration = new Histogram({
    name: 'provisio_invocation_duration_seconds',
    help: 'Duration of event task invocations, upstream call included',
    labelNames: ['namespace', 'task', 'activity', 'state'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  /**
   * Gauges read from status at each scrape, so that they hold across restarts and forget deleted resources:
   * the alerting metrics (issue 16), used as Flux's gotk_reconcile_condition is.
   */
  private resources: ResourceSource | undefined;
  readonly lastSuccess = new Gauge({
    name: 'provisio_task_last_success_timestamp_seconds',
    help: 'When the last successful run of a scheduled task ended (Unix time); absent until one succeeded',
    labelNames: ['namespace', 'task'] as const,
    registers: [this.registry],
    collect: () => this.collectLastSuccess(),
  });
  readonly resourceReady = new Gauge({
    name: 'provisio_resource_ready',
    help: "Whether a Connector's or Task's Ready condition is True (1) or not (0: False or Unknown)",
    labelNames: ['kind', 'namespace', 'name'] as const,
    registers: [this.registry],
    collect: () => this.collectReady(),
  });

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry });
  }

  runFinished(task: Task, run: TaskRunSummary): void {
    const labels = { namespace: namespaceOf(task), task: task.metadata.name };
    const result = runSucceeded(run) ? 'Succeeded' : run.extract?.status === 'Stopped' ? 'Stopped' : 'Failed';
    this.runs.inc({ ...labels, result });
    if (run.startTime) this.runDuration.observe(labels, (Date.now() - Date.parse(run.startTime)) / 1000);
    this.records.inc(labels, run.extract?.records ?? 0);
    for (const op of ['created', 'updated', 'deleted'] as const) {
      this.cards.inc({ ...labels, operation: op }, run.load?.[op] ?? 0);
    }
  }

  /** Gives the resource gauges their source (the served runtime's store and status). */
  observeResources(source: ResourceSource): void {
    this.resources = source;
  }

  private collectLastSuccess(): void {
    this.lastSuccess.reset();
    if (!this.resources) return;
    const { store, statuses } = this.resources;
    for (const { key } of store.list('Task')) {
      const status = statuses.peek<TaskStatus>('Task', key)?.status;
      const run = [status?.lastRun, ...(status?.history ?? [])].find((r) => r && runSucceeded(r));
      const at = run && succeededAt(run);
      if (at === undefined) continue;
      const { namespace, name } = splitKey(key);
      this.lastSuccess.set({ namespace, task: name }, at);
    }
  }

  private collectReady(): void {
    this.resourceReady.reset();
    if (!this.resources) return;
    const { store, statuses } = this.resources;
    for (const kind of ['Connector', 'Task'] as const) {
      for (const { key } of store.list(kind)) {
        const conditions = statuses.peek<{ conditions?: Condition[] }>(kind, key)?.status.conditions;
        const { namespace, name } = splitKey(key);
        this.resourceReady.set({ kind, namespace, name }, conditionOf(conditions, 'Ready')?.status === 'True' ? 1 : 0);
      }
    }
  }

  invocationFinished(labels: InvocationLabels, durationSeconds: number): void {
    this.invocations.inc(labels);
    this.invocationDuration.observe(labels, durationSeconds);
  }
}
