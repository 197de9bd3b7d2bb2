/**
 * Assembles a running controller: source, store, state, target, controller and, when it is to be served, the
 * invocation service (limits, Idempotency-Key results, invocation counters). `provisio run` and the integration
 * tests start it the same way. Git-directory mode reads a directory and keeps status in state-dir files;
 * Kubernetes mode reads the API server's Connectors and Tasks, their Secrets, and writes status back to the
 * status subresource. Both keep the task cache, cursors, idempotency results and local cards in the state dir.
 *
 * The HTTP listener is not this layer's business: `server/serve.ts` passes `serve`, which gets what a listener
 * serves (ServedParts) once the runtime runs, and `metrics`, the ports that count runs and invocations.
 */
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { builtInConnectorTypes, typeRules } from '../connectors/registry.js';
import type { RunTrigger } from '../engine/run-task.js';
import { type InvocationMetrics, InvocationService } from '../invocations/invocation-service.js';
import { InvocationLimits } from '../invocations/limits.js';
import type { TaskGate } from '../invocations/task-gate.js';
import type { Logger } from '../log/logger.js';
import type { TaskLogRing } from '../log/task-log-ring.js';
import { REASONS } from '../model/conditions.js';
import { parseDuration } from '../model/duration.js';
import { keyOf, type Task, type TaskRunSummary } from '../model/resources.js';
import { runEvent } from '../model/run-outcome.js';
import { LocalSecretResolver, type SecretResolver } from '../secrets/resolver.js';
import { GitDirSource } from '../sources/gitdir/git-dir-source.js';
import type { ResourceSource } from '../sources/source.js';
import { FileEvents } from '../state/file-events.js';
import { type Idempotency, IdempotencyStore } from '../state/idempotency.js';
import type { InvocationCounters } from '../state/invocation-counters.js';
import { FileLastGood } from '../state/last-good.js';
import { SqliteTaskCache } from '../state/sqlite/sqlite-task-cache.js';
import { FileStatusStore, type StatusStore } from '../state/status-store.js';
import { ResourceStore } from '../store/resource-store.js';
import { LocalTarget } from '../targets/local/local-target.js';
import { M42Targets } from '../targets/m42/m42-targets.js';
import { sharedTarget, type TargetFactory } from '../targets/types.js';
import { Controller } from './controller.js';
import type { KubernetesMode } from './kubernetes-mode.js';
import type { LeaderElector } from './leader-election.js';
import { controllerTaskGate } from './task-gate.js';

/** Told about every finished scheduled run (server/metrics.ts: Prometheus). */
export interface RunMetrics {
  runFinished(task: Task, run: TaskRunSummary): void;
}

/** What a listener serves: resources and their status, the operations, and event invocation. */
export interface ServedParts {
  store: ResourceStore;
  statuses: StatusStore;
  /** The operations behind the CLI verbs (trigger, stop, clear-cache, suspend, resume). */
  controller: Controller;
  /** The source revision the resources were read at. */
  revision(): string | undefined;
  gate: TaskGate;
  invocations: InvocationService;
  log: Logger;
  /** Git mode: the Events kept in the state directory (Kubernetes mode: the cluster's Events). */
  events?: FileEvents;
  /** The recent log lines of each task (`provisio logs`). */
  taskLogs?: TaskLogRing;
}

/** A started listener: where it listens, and how it stops (first, when the runtime closes). */
export interface Listener {
  address: AddressInfo;
  close(): Promise<void>;
}

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
  /** `--target-url` and `--target-ca` of the m42 target. */
  targetSettings?: TargetSettings;
  concurrency?: number;
  /** How often invocation counts are added to status (default 1 s); tests that flush themselves set it high. */
  invocationFlushMs?: number;
  /** Check each valid connector's connection into status.connection, again every 5 minutes (default true). */
  checkConnections?: boolean;
  maxInvocations?: number;
  idempotencyTtl?: string;
  /**
   * Redis URL: Idempotency-Key results and invocation counters shared by every replica serving the event
   * endpoint (the task cache stays per replica; see Controller.sharedStatus).
   */
  redis?: string;
  /** Counts runs and invocations; none: not counted. */
  metrics?: RunMetrics & InvocationMetrics;
  /**
   * Serves the runtime (server/serve.ts: the HTTP listener). With it the runtime builds the invocation
   * service; it is called once the resources are loaded and the controller started, before the source is
   * watched, and the listener it answers is closed first on shutdown.
   */
  serve?: (parts: ServedParts) => Promise<Listener>;
  /** Watch the directory for changes (off for --once). */
  watch?: boolean;
  /** The ring the logger feeds with each task's lines, to serve them (`provisio logs`). */
  taskLogs?: TaskLogRing;
}

export interface Runtime {
  store: ResourceStore;
  statuses: StatusStore;
  controller: Controller;
  source: ResourceSource;
  gate: TaskGate;
  invocations?: InvocationService;
  /** Where the listener listens (with `serve`). */
  address?: AddressInfo;
  /** Kubernetes mode with leader election. */
  elector?: LeaderElector;
  close(): Promise<void>;
}

/** Where `--target m42` writes, and how it trusts the server. */
export interface TargetSettings {
  url?: string;
  caFile?: string;
}

/**
 * Each connector's target. `local` is one embedded store for all connectors; `m42` is the home solution's
 * REST API, logged in per connector with its spec.webApi user.
 */
export function openTargets(
  kind: string,
  stateDir: string,
  deps: { secrets: SecretResolver; log: Logger; settings?: TargetSettings },
): TargetFactory {
  if (kind === 'local') return sharedTarget(new LocalTarget(join(stateDir, 'cards.db')));
  if (kind === 'm42') {
    const url = deps.settings?.url;
    if (!url) throw new Error('--target m42 needs --target-url, such as https://host/rest-api/itsm/v1');
    return new M42Targets({ url, caFile: deps.settings?.caFile, secrets: deps.secrets, log: deps.log });
  }
  throw new Error(`--target ${kind}: unknown target; use local or m42`);
}

interface DesiredState {
  store: ResourceStore;
  source: ResourceSource;
  statuses: StatusStore;
  secrets: SecretResolver;
  kube?: KubernetesMode;
}

/** Where resources, their status and their secrets come from: a directory, or the Kubernetes API. */
async function openDesiredState(opts: RuntimeOptions, stateDir: string): Promise<DesiredState> {
  // The last valid versions are kept in the state dir, so that an invalid new version keeps the old one
  // running across restarts too.
  const lastGood = new FileLastGood(stateDir);
  const store = new ResourceStore(lastGood);
  if (opts.kubernetes) {
    const { openKubernetesMode } = await import('./kubernetes-mode.js');
    const kube = openKubernetesMode(opts.kubernetes, store, opts.log, opts.secrets);
    return { store, source: kube.source, statuses: kube.statuses, secrets: kube.secrets, kube };
  }
  if (!opts.dir) throw new Error('either a resource directory (--dir) or --kubernetes is required');
  const secrets = opts.secrets ?? new LocalSecretResolver(opts.secretsDir ?? process.env.PROVISIO_SECRETS_DIR);
  const source = new GitDirSource({
    dir: opts.dir,
    store,
    types: typeRules,
    secrets,
    log: opts.log,
    lastGoodFiles: lastGood,
  });
  return { store, source, statuses: new FileStatusStore(stateDir), secrets };
}

interface InvocationParts {
  invocations: InvocationService;
  idempotency: Idempotency;
}

/** The event-task service with its idempotency results and counters, in Redis when replicas share state. */
async function openInvocations(
  opts: RuntimeOptions,
  d: DesiredState & { gate: TaskGate; stateDir: string; redis?: Redis; targets: TargetFactory },
): Promise<InvocationParts> {
  const ttlMs = parseDuration(opts.idempotencyTtl ?? '24h');
  let counters: InvocationCounters | undefined;
  let idempotency: Idempotency;
  if (d.redis) {
    const { RedisIdempotency } = await import('../state/redis/redis-idempotency.js');
    const { RedisInvocationCounters } = await import('../state/redis/redis-invocation-counters.js');
    idempotency = new RedisIdempotency(d.redis, { ttlMs, log: opts.log });
    counters = new RedisInvocationCounters(d.redis);
  } else {
    idempotency = new IdempotencyStore(join(d.stateDir, 'state.db'), ttlMs);
  }
  const invocations = new InvocationService({
    statuses: d.statuses,
    gate: d.gate,
    secrets: d.secrets,
    log: opts.log,
    metrics: opts.metrics,
    limits: new InvocationLimits(opts.maxInvocations ?? 256),
    flushEveryMs: opts.invocationFlushMs,
    idempotency,
    counters,
    targets: d.targets,
  });
  return { invocations, idempotency };
}

/** The invocation service and the HTTP listener, when the runtime serves (`--listen`). */
async function serve(
  opts: RuntimeOptions,
  d: DesiredState & { gate: TaskGate; stateDir: string; redis?: Redis; events?: FileEvents; targets: TargetFactory },
  controller: Controller,
): Promise<Partial<InvocationParts> & { listener?: Listener }> {
  if (!opts.serve) return {};
  const parts = await openInvocations(opts, d);
  const { store, statuses, source, gate } = d;
  const revision = () => source.revision;
  const listener = await opts.serve({
    store,
    statuses,
    controller,
    revision,
    gate,
    invocations: parts.invocations,
    log: opts.log,
    events: d.events,
    taskLogs: opts.taskLogs,
  });
  return { ...parts, listener };
}

/** After the source's first full read: what it no longer declares has no last good version either. */
function loaded({ source, store }: DesiredState, log: Logger): void {
  store.forgetAbsentLastGood();
  const counts = { connectors: store.list('Connector').length, tasks: store.list('Task').length };
  log.info(
    { source: source.description, revision: source.revision, ...counts },
    `loaded ${counts.connectors} connectors and ${counts.tasks} tasks from ${source.description}`,
  );
}

/** Told when a run starts and ends: metrics, and the Events of Kubernetes or git mode. */
function runObservers(opts: RuntimeOptions, kube: KubernetesMode | undefined, events: FileEvents | undefined) {
  return {
    onRunStarted: (task: Task, runId: string, trigger: RunTrigger) => {
      kube?.runStarted(task, runId, trigger);
      events?.record('Task', keyOf(task), {
        type: 'Normal',
        reason: REASONS.RunStarted,
        message: `run ${runId} started (${trigger})`,
      });
    },
    onRunFinished: (task: Task, run: TaskRunSummary) => {
      opts.metrics?.runFinished(task, run);
      kube?.runFinished(task, run);
      events?.record('Task', keyOf(task), runEvent(run));
    },
  };
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { log } = opts;
  const stateDir = resolve(opts.stateDir);
  const desired = await openDesiredState(opts, stateDir);
  const { store, source, statuses, secrets, kube } = desired;
  const cache = new SqliteTaskCache(join(stateDir, 'state.db'));
  const targets = openTargets(opts.target ?? 'local', stateDir, { secrets, log, settings: opts.targetSettings });
  // Git mode keeps Events in the state directory, as the cluster keeps them in Kubernetes mode.
  const events = kube ? undefined : new FileEvents(stateDir);
  const controller = new Controller({
    store,
    statuses,
    cache,
    targets,
    secrets,
    log,
    stateDir,
    concurrency: opts.concurrency,
    checkConnections: opts.checkConnections,
    sharedStatus: kube !== undefined,
    ...runObservers(opts, kube, events),
  });

  await source.load();
  loaded(desired, log);
  // With leader election only the leader schedules, records interrupted runs and reconciles status.
  const elector = kube?.elect(
    () => controller.start(),
    // A replica that is not sure it leads must not run anything: stop at once, let the process restart.
    () => void controller.close().finally(() => opts.onLostLeadership?.()),
  );
  if (!kube) controller.start();

  const gate = controllerTaskGate(controller, store);
  // Shared state for several replicas: loaded only when asked for.
  const redis = opts.redis
    ? await (await import('../state/redis/redis-client.js')).connectRedis(opts.redis, log)
    : undefined;
  const { invocations, idempotency, listener } = await serve(
    opts,
    { ...desired, gate, stateDir, redis, events, targets },
    controller,
  );
  if (opts.watch) await source.watch();

  return {
    store,
    statuses,
    controller,
    source,
    gate,
    invocations,
    address: listener?.address,
    elector,
    async close() {
      await listener?.close();
      await invocations?.close();
      await idempotency?.close();
      // What each connector type keeps between event calls (sessions, tokens, connection pools).
      await Promise.all(builtInConnectorTypes.all().map((t) => t.closeSessions?.()));
      // Runs stop and are recorded before the status is flushed and, last, the Lease is released: a
      // standby must not start scheduling while this replica still runs anything.
      await controller.close();
      await kube?.statuses.close();
      await kube?.flushEvents();
      await (kube ?? source).close();
      cache.close();
      await targets.close();
      await redis?.quit().catch(() => redis.disconnect());
    },
  };
}
