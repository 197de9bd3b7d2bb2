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
import { typeRules } from '../connectors/registry.js';
import { closeRestActionSessions } from '../connectors/rest/actions/index.js';
import { type InvocationCounters, InvocationService } from '../invocations/invocation-service.js';
import { InvocationLimits } from '../invocations/limits.js';
import type { Logger } from '../log/logger.js';
import { parseDuration } from '../model/duration.js';
import type { Task, TaskRunSummary } from '../model/resources.js';
import { namespaceOf } from '../model/resources.js';
import { LocalSecretResolver, type SecretResolver } from '../secrets/resolver.js';
import { TokenAuth } from '../server/auth.js';
import { HttpServer } from '../server/http-server.js';
import { mountInvokeApi } from '../server/invoke-api.js';
import { Metrics } from '../server/metrics.js';
import { mountStatusApi } from '../server/status-api.js';
import { GitDirSource } from '../sources/gitdir/git-dir-source.js';
import type { ResourceSource } from '../sources/source.js';
import { type Idempotency, IdempotencyStore } from '../state/idempotency.js';
import { FileStatusStore, type StatusStore } from '../state/status-store.js';
import { TaskCache } from '../state/task-cache.js';
import { ResourceStore } from '../store/resource-store.js';
import { LocalTarget } from '../targets/local/local-target.js';
import type { Target } from '../targets/types.js';
import { Controller } from './controller.js';
import type { KubernetesMode } from './kubernetes-mode.js';
import type { LeaderElector } from './leader-election.js';
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
  /**
   * Redis URL: Idempotency-Key results and invocation counters shared by every replica serving the event
   * endpoint (the task cache stays per replica; see Controller.sharedStatus).
   */
  redis?: string;
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

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { log } = opts;
  const stateDir = resolve(opts.stateDir);
  const store = new ResourceStore();
  let kube: KubernetesMode | undefined;
  let source: ResourceSource;
  let statuses: StatusStore;
  let secrets: SecretResolver;
  if (opts.kubernetes) {
    const { openKubernetesMode } = await import('./kubernetes-mode.js');
    kube = openKubernetesMode(opts.kubernetes, store, log, opts.secrets);
    ({ source, statuses, secrets } = kube);
  } else {
    if (!opts.dir) throw new Error('either a resource directory (--dir) or --kubernetes is required');
    secrets = opts.secrets ?? new LocalSecretResolver(opts.secretsDir ?? process.env.PROVISIO_SECRETS_DIR);
    source = new GitDirSource({ dir: opts.dir, store, types: typeRules, secrets, log });
    statuses = new FileStatusStore(stateDir);
  }
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
    sharedStatus: kube !== undefined,
    onRunStarted: (task, runId, trigger) => kube?.runStarted(task, runId, trigger),
    onRunFinished: (task, run) => {
      recordRunMetrics(metrics, task, run);
      kube?.runFinished(task, run);
    },
  });

  await source.load();
  const counts = { connectors: store.list('Connector').length, tasks: store.list('Task').length };
  log.info(
    { source: source.description, revision: source.revision, ...counts },
    `loaded ${counts.connectors} connectors and ${counts.tasks} tasks from ${source.description}`,
  );
  // With leader election only the leader schedules, records interrupted runs and reconciles status.
  let elector: LeaderElector | undefined;
  if (kube) {
    elector = kube.elect(
      () => controller.start(),
      // A replica that is not sure it leads must not run anything: stop at once, let the process restart.
      () => void controller.close().finally(() => opts.onLostLeadership?.()),
    );
  } else {
    controller.start();
  }

  let server: HttpServer | undefined;
  let invocations: InvocationService | undefined;
  let idempotency: Idempotency | undefined;
  let address: AddressInfo | undefined;
  // Shared state for several replicas: loaded only when asked for.
  const redis = opts.redis
    ? await (await import('../state/redis/redis-client.js')).connectRedis(opts.redis, log)
    : undefined;
  if (opts.listen) {
    server = new HttpServer({ log, auth: opts.auth ?? TokenAuth.fromEnvironment(), metrics });
    mountStatusApi(server, { store, statuses, controller, revision: () => source.revision });
    const ttlMs = parseDuration(opts.idempotencyTtl ?? '24h');
    let counters: InvocationCounters | undefined;
    if (redis) {
      const { RedisIdempotency } = await import('../state/redis/redis-idempotency.js');
      const { RedisInvocationCounters } = await import('../state/redis/redis-invocation-counters.js');
      idempotency = new RedisIdempotency(redis, { ttlMs });
      counters = new RedisInvocationCounters(redis);
    } else {
      idempotency = new IdempotencyStore(join(stateDir, 'state.db'), ttlMs);
    }
    invocations = new InvocationService({
      store,
      statuses,
      controller,
      secrets,
      log,
      metrics,
      limits: new InvocationLimits(opts.maxInvocations ?? 256),
      idempotency,
      counters,
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
      await server?.close();
      await invocations?.close();
      await idempotency?.close();
      await closeRestActionSessions();
      // Runs stop and are recorded before the status is flushed and, last, the Lease is released: a
      // standby must not start scheduling while this replica still runs anything.
      await controller.close();
      await kube?.statuses.close();
      await kube?.flushEvents();
      await (kube ?? source).close();
      cache.close();
      await target.close();
      await redis?.quit().catch(() => redis.disconnect());
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
