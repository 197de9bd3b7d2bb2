/**
 * Kubernetes Events for task runs (`kubectl describe task NAME`, `kubectl get events`): one when a run starts,
 * one when it ends, with the reasons the Ready condition uses (Succeeded, ExtractFailed, LoadFailed, Stopped).
 * Fire and forget: an event that cannot be written is logged, never fails or slows a run.
 */
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { apiErrorCode } from '../kube/custom-resources.js';
import type { Logger } from '../log/logger.js';
import { REASONS } from '../model/conditions.js';
import { API_VERSION, namespaceOf, type Task, type TaskRunSummary } from '../model/resources.js';
import { runEvent } from '../model/run-outcome.js';

export interface RunEventObjects {
  object(kind: 'Task', key: string): { metadata: { uid?: string; resourceVersion?: string } } | undefined;
}

export class KubernetesRunEvents {
  private readonly api: CoreV1Api;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly opts: { kubeConfig: KubeConfig; objects: RunEventObjects; log: Logger; instance?: string },
  ) {
    this.api = opts.kubeConfig.makeApiClient(CoreV1Api);
  }

  started(task: Task, runId: string, trigger: string): void {
    this.emit(task, 'Normal', REASONS.RunStarted, `run ${runId} started (${trigger})`);
  }

  finished(task: Task, run: TaskRunSummary): void {
    const { reason, type, message } = runEvent(run);
    this.emit(task, type, reason, message);
  }

  /** Waits for events still being written (at shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private emit(task: Task, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const namespace = namespaceOf(task);
    const name = task.metadata.name;
    const obj = this.opts.objects.object('Task', `${namespace}/${name}`);
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: {
        apiVersion: API_VERSION,
        kind: 'Task',
        name,
        namespace,
        uid: obj?.metadata.uid,
        resourceVersion: obj?.metadata.resourceVersion,
      },
      reason,
      // Event messages are capped at 1 KiB by the API server.
      message: message.length > 1000 ? `${message.slice(0, 997)}...` : message,
      type,
      source: { component: 'provisio-controller' },
      reportingComponent: 'provisio.dev/controller',
      reportingInstance: this.opts.instance ?? process.env.POD_NAME ?? 'provisio',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    const p = this.api
      .createNamespacedEvent({ namespace, body })
      .then(() => undefined)
      .catch((e: unknown) => {
        this.opts.log.warn(
          { task: `${namespace}/${name}`, reason, code: apiErrorCode(e) },
          'could not record a Kubernetes event',
        );
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}
