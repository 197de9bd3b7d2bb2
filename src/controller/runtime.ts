/**
 * Assembles a running controller: source, store, state, target, controller, and (with `listen`) the HTTP
 * server with the status API and event invocation. `provisio run` and the integration tests start it the
 * same way. Git-directory mode reads a directory and keeps status in state-dir files; Kubernetes mode reads
 * the API server's Connectors and Tasks, their Secrets, and writes status back to the status subresource.
 * Both keep the task cache, watermarks, idempotency results and local cards in the state dir.
 */
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { closeRestActionSessions } from '../connectors/rest/actions/index.js';
import { IdempotencyStore } from '../events/idempotency.js';
import { InvocationService } from '../events/invocation-service.js';
import { InvocationLimits } from '../events/limits.js';
import type { Logger } from '../log/logger.js';
import type { Task, TaskRunSummary } from '../model/resources.js';
import { namespaceOf } from '../model/resources.js';
import { parseDuration } from '../scheduler/duration.js';
import { KubernetesSecretResolver } from '../secrets/kubernetes-secret-resolver.js';
import { LocalSecretResolver, type SecretResolver } from '../secrets/resolver.js';
import { TokenAuth } from '../server/auth.js';
import { HttpServer } from '../server/http-server.js';
import { mountInvokeApi } from '../server/invoke-api.js';
import { Metrics } from '../server/metrics.js';
import { mountStatusApi } from '../server/status-api.js';
import { GitDirSource } from '../sources/gitdir/git-dir-source.js';
import { KubernetesSource } from '../sources/kubernetes/kubernetes-source.js';
import type { ResourceSource } from '../sources/source.js';
import { KubernetesRunEvents } from '../state/kubernetes-events.js';
import { KubernetesStatusStore } from '../state/kubernetes-status-store.js';
import { FileStatusStore, type StatusStore } from '../state/status-store.js';
import { TaskCache } from '../state/task-cache.js';
import { ResourceStore } from '../store/resource-store.js';
import { LocalTarget } from '../targets/local/local-target.js';
import type { Target } from '../targets/types.js';
import { Controller } from './controller.js';
import { LeaderElector } from './leader-election.js';
import { runSucceeded } from './task-status.js';

export interface RuntimeOptions {
  /** Git-directory mode: the resource directory. */
  dir?: string;
  /**
   * Kubernetes mode: the cluster, the namespaces to watch (empty: all) and, for more than one replica, the
   * Lease that elects the one replica that schedules (all of them serve the event endpoint).
   */
  kubernetes?: {
    kubeConfig: KubeConfig;
    namespaces: readonly string[];
    leaderElection?: { namespace: string; name: string; identity: string; leaseDurationSeconds?: number };
  };
  /** Called when this replica loses the leader lease (it has stopped scheduling); `provisio run` exits. */
  onLostLeadership?: () => void;
  stateDir: string;
  log: Logger;
  secretsDir?: string;
  secrets?: SecretResolver;
  target?: string;
  listen?: string;
  concurrency?: number;
  auth?: TokenAuth;
  maxInvocations?: number;
  idempotencyTtl?: string;
  /** Labels on every metric (the environment type). */
  metricLabels?: Record<string, string>;
  /** Watch the directory for changes (off for --once). */
  watch?: boolean;
}

export interface Runtime {
  store: ResourceStore;
  statuses: StatusStore;
  controller: Controller;
  source: ResourceSource;
  metrics: Metrics;
  invocations?: InvocationService;
  address?: AddressInfo;
  /** Kubernetes mode with leader election. */
  elector?: LeaderElector;
  close(): Promise<void>;
}

export function openTarget(kind: string, stateDir: string): Target {
  if (kind === 'local') return new LocalTarget(join(stateDir, 'cards.db'));
  throw new Error(
    `--target ${kind}: this version of Provisio loads into the embedded local target only (--target local)`,
  );
}

function openSource(
  opts: RuntimeOptions,
  store: ResourceStore,
  stateDir: string,
): { source: ResourceSource; statuses: StatusStore; secrets: SecretResolver } {
  const { log } = opts;
  if (opts.kubernetes) {
    const { kubeConfig, namespaces } = opts.kubernetes;
    const secrets = opts.secrets ?? new KubernetesSecretResolver(kubeConfig);
    const source = new KubernetesSource({ kubeConfig, namespaces, store, secrets, log });
    const statuses = new KubernetesStatusStore({ kubeConfig, objects: source, log });
    return { source, statuses, secrets };
  }
  if (!opts.dir) throw new Error('either a resource directory (--dir) or --kubernetes is required');
  const secrets = opts.secrets ?? new LocalSecretResolver(opts.secretsDir ?? process.env.PROVISIO_SECRETS_DIR);
  const source = new GitDirSource({ dir: opts.dir, store, secrets, log });
  return { source, statuses: new FileStatusStore(stateDir), secrets };
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { log } = opts;
  const stateDir = resolve(opts.stateDir);
  const store = new ResourceStore();
  const { source, statuses, secrets } = openSource(opts, store, stateDir);
  const runEvents =
    opts.kubernetes && source instanceof KubernetesSource
      ? new KubernetesRunEvents({ kubeConfig: opts.kubernetes.kubeConfig, objects: source, log })
      : undefined;
  const cache = new TaskCache(join(stateDir, 'state.db'));
  const target = openTarget(opts.target ?? 'local', stateDir);
  const metrics = new Metrics(opts.metricLabels);
  const controller = new Controller({
    store,
    statuses,
    cache,
    target,
    secrets,
    log,
    stateDir,
    concurrency: opts.concurrency,
    onRunStarted: (task, runId, trigger) => runEvents?.started(task, runId, trigger),
    onRunFinished: (task, run) => {
      recordRunMetrics(metrics, task, run);
      runEvents?.finished(task, run);
    },
  });

  await source.load();
  const counts = { connectors: store.list('Connector').length, tasks: store.list('Task').length };
  log.info(
    { source: source.description, revision: source.revision, ...counts },
    `loaded ${counts.connectors} connectors and ${counts.tasks} tasks from ${source.description}`,
  );
  const election = opts.kubernetes?.leaderElection;
  let elector: LeaderElector | undefined;
  if (election && opts.kubernetes) {
    // Only the leader schedules, records interrupted runs and reconciles status; the others wait.
    let started = false;
    elector = new LeaderElector({
      kubeConfig: opts.kubernetes.kubeConfig,
      ...election,
      renewDeadlineSeconds: election.leaseDurationSeconds ? (election.leaseDurationSeconds * 2) / 3 : undefined,
      retryPeriodSeconds: election.leaseDurationSeconds ? election.leaseDurationSeconds / 7.5 : undefined,
      log,
      onStartedLeading: () => {
        if (!started) controller.start();
        started = true;
      },
      onStoppedLeading: () => {
        // A replica that is not sure it leads must not run anything: stop at once, let the process restart.
        void controller.close().finally(() => opts.onLostLeadership?.());
      },
    });
    elector.start();
  } else {
    controller.start();
  }

  let server: HttpServer | undefined;
  let invocations: InvocationService | undefined;
  let idempotency: IdempotencyStore | undefined;
  let address: AddressInfo | undefined;
  if (opts.listen) {
    server = new HttpServer({ log, auth: opts.auth ?? TokenAuth.fromEnvironment(), metrics });
    mountStatusApi(server, { store, statuses, controller, revision: () => source.revision });
    idempotency = new IdempotencyStore(join(stateDir, 'state.db'), parseDuration(opts.idempotencyTtl ?? '24h'));
    invocations = new InvocationService({
      store,
      statuses,
      controller,
      secrets,
      log,
      metrics,
      limits: new InvocationLimits(opts.maxInvocations ?? 256),
      idempotency,
    });
    mountInvokeApi(server, invocations);
    address = await server.listen(opts.listen);
    server.ready = true;
    log.info({ address: address.address, port: address.port }, `API listening on ${address.address}:${address.port}`);
  }
  if (opts.watch) await source.watch();

  return {
    store,
    statuses,
    controller,
    source,
    metrics,
    invocations,
    address,
    elector,
    async close() {
      await elector?.stop();
      await source.close();
      await server?.close();
      invocations?.close();
      idempotency?.close();
      await closeRestActionSessions();
      await controller.close();
      if (statuses instanceof KubernetesStatusStore) await statuses.close();
      await runEvents?.flush();
      cache.close();
      await target.close();
    },
  };
}

function recordRunMetrics(metrics: Metrics, task: Task, run: TaskRunSummary): void {
  const labels = { namespace: namespaceOf(task), task: task.metadata.name };
  const result = runSucceeded(run) ? 'Succeeded' : run.extract?.status === 'Stopped' ? 'Stopped' : 'Failed';
  metrics.runs.inc({ ...labels, result });
  if (run.startTime) metrics.runDuration.observe(labels, (Date.now() - Date.parse(run.startTime)) / 1000);
  metrics.records.inc(labels, run.extract?.records ?? 0);
  for (const op of ['created', 'updated', 'deleted'] as const) {
    metrics.cards.inc({ ...labels, operation: op }, run.load?.[op] ?? 0);
  }
}
