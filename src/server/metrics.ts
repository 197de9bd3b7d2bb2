/**
 * Prometheus metrics of the controller. They implement the metrics ports of the layers below: the runtime's
 * RunMetrics (every finished scheduled run) and the invocation service's InvocationMetrics.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { RunMetrics } from '../controller/runtime.js';
import { runSucceeded } from '../controller/task-status.js';
import type { InvocationLabels, InvocationMetrics } from '../invocations/invocation-service.js';
import type { Task, TaskRunSummary } from '../model/resources.js';
import { namespaceOf } from '../model/resources.js';

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

  invocationFinished(labels: InvocationLabels, durationSeconds: number): void {
    this.invocations.inc(labels);
    this.invocationDuration.observe(labels, durationSeconds);
  }
}
