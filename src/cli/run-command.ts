/**
 * `provisio run --dir PATH | --kubernetes`: the controller. Watches the directory (or the cluster's Connectors
 * and Tasks), runs the scheduled tasks, serves the API, and records status and run history (state-directory
 * files in git mode, the status subresource in Kubernetes mode).
 */
import { hostname } from 'node:os';
import { runSucceeded } from '../controller/task-status.js';
import { createLogger } from '../log/logger.js';
import { TaskLogRing } from '../log/task-log-ring.js';
import type { TaskRunSummary } from '../model/resources.js';
import { TokenAuth } from '../server/auth.js';
import { startServedRuntime } from '../server/serve.js';
import type { StatusStore } from '../state/status-store.js';
import { table } from './output.js';

export interface RunCommandOptions {
  dir?: string;
  kubernetes?: boolean;
  namespace?: string[];
  kubeconfig?: string;
  redis?: string;
  environment?: string;
  leaderElect?: boolean;
  leaseName?: string;
  leaseNamespace?: string;
  leaseDuration?: number;
  stateDir: string;
  secretsDir?: string;
  target: string;
  targetUrl?: string;
  targetCa?: string;
  listen?: string;
  once?: boolean;
  concurrency: number;
  apiTokenFile?: string;
  maxInvocations: number;
  idempotencyTtl: string;
}

export const DEFAULT_STATE_DIR = '.provisio';

export async function runCommand(opts: RunCommandOptions): Promise<number> {
  const env: Record<string, string> = opts.environment ? { environment: opts.environment } : {};
  // Each task's recent lines are kept for `provisio logs` (ADR 0010).
  const taskLogs = new TaskLogRing();
  const log = createLogger({ base: { component: 'controller', ...env }, onLine: taskLogs.add });
  // Installed before startup, so a SIGTERM while loading still ends in a clean shutdown.
  let signalled: string | undefined;
  let onSignal: (signal: string) => void = (signal) => {
    signalled = signal;
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  // Loaded only in Kubernetes mode: the client library is large.
  const kube = opts.kubernetes ? await import('../kube/kube-config.js') : undefined;
  const runtime = await startServedRuntime({
    ...opts,
    targetSettings: { url: opts.targetUrl, caFile: opts.targetCa },
    taskLogs,
    kubernetes: kube
      ? {
          kubeConfig: kube.loadKubeConfig(opts.kubeconfig),
          namespaces: opts.namespace ?? [],
          leaderElection:
            opts.leaderElect === false
              ? undefined
              : {
                  namespace: opts.leaseNamespace ?? kube.ownNamespace(),
                  name: opts.leaseName ?? 'provisio-controller',
                  identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
                  leaseDurationSeconds: opts.leaseDuration,
                },
        }
      : undefined,
    onLostLeadership: () => {
      log.error('lost the leader lease: exiting so that the pod restarts as a standby');
      process.exit(1);
    },
    metricLabels: env,
    log,
    auth: TokenAuth.fromEnvironment(opts.apiTokenFile),
    watch: !opts.once,
    // A one-shot run calls each system for its tasks only; connection checks are for the running controller.
    checkConnections: !opts.once,
  });

  if (opts.once) {
    onSignal = (signal: string) => {
      log.warn({ signal }, 'stopping the runs: they are recorded as stopped');
      void runtime.controller.scheduler.close();
    };
    if (signalled) onSignal(signalled);
    const { ran, failed } = await runtime.controller.runOnce();
    printOnceSummary(ran, runtime.statuses);
    await runtime.close();
    if (ran.length === 0) console.error('no scheduled task could run: see `provisio get tasks` for why');
    return failed.length > 0 || ran.length === 0 ? 1 : 0;
  }

  await new Promise<void>((done) => {
    onSignal = (signal: string) => {
      log.info({ signal }, 'shutting down: running tasks are stopped and recorded');
      done();
    };
    if (signalled) onSignal(signalled);
  });
  await runtime.close();
  return 0;
}

function printOnceSummary(keys: string[], statuses: StatusStore): void {
  const rows = keys.map((key) => {
    const run = statuses.read<{ lastRun?: TaskRunSummary }>('Task', key)?.status.lastRun;
    return [
      key,
      run?.extract?.status ?? '-',
      String(run?.extract?.records ?? 0),
      run?.load?.status ?? '-',
      String(run?.load?.created ?? 0),
      String(run?.load?.updated ?? 0),
      String(run?.load?.unchanged ?? 0),
      String(run?.load?.deleted ?? 0),
      String(run?.load?.failed ?? 0),
      runSucceeded(run) ? '' : ((run?.extract?.status !== 'Succeeded' ? run?.extract?.info : run?.load?.info) ?? ''),
    ];
  });
  console.log(
    table(
      ['TASK', 'EXTRACT', 'RECORDS', 'LOAD', 'CREATED', 'UPDATED', 'UNCHANGED', 'DELETED', 'NOT LOADED', 'MESSAGE'],
      rows,
    ),
  );
}
