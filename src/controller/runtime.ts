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
import { KubernetesStatusStore } from '../state/kubernetes-status-store.js';
import { FileStatusStore, type StatusStore } from '../state/status-store.js';
import { TaskCache } from '../state/task-cache.js';
import { ResourceStore } from '../store/resource-store.js';
import { LocalTarget } from '../targets/local/local-target.js';
import type { Target } from '../targets/types.js';
import { Controller } from './controller.js';
import { runSucceeded } from './task-status.js';

export interface RuntimeOptions {
  /** Git-directory mode: the resource directory. */
  dir?: string;
  /** Kubernetes mode: the cluster and the namespaces to watch (empty: all). */
  kubernetes?: { kubeConfig: KubeConfig; namespaces: readonly string[] };
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
    onRunFinished: (task, run) => recordRunMetrics(metrics, task, run),
  });

  await source.load();
  const counts = { connectors: store.list('Connector').length, tasks: store.list('Task').length };
  log.info(
    { source: source.description, revision: source.revision, ...counts },
    `loaded ${counts.connectors} connectors and ${counts.tasks} tasks from ${source.description}`,
  );
  controller.start();

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
    async close() {
      await source.close();
      await server?.close();
      invocations?.close();
      idempotency?.close();
      await closeRestActionSessions();
      await controller.close();
      if (statuses instanceof KubernetesStatusStore) await statuses.close();
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
