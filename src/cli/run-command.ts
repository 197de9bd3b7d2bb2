/**
 * `provisio run --dir PATH`: the controller in git-directory mode. Watches the directory, runs the
 * scheduled tasks, serves the API, and keeps status and run history in the state directory.
 */
import { join, resolve } from 'node:path';
import { Controller } from '../controller/controller.js';
import { runSucceeded } from '../controller/task-status.js';
import { createLogger } from '../log/logger.js';
import type { Task, TaskRunSummary } from '../model/resources.js';
import { namespaceOf } from '../model/resources.js';
import { LocalSecretResolver } from '../secrets/resolver.js';
import { TokenAuth } from '../server/auth.js';
import { HttpServer } from '../server/http-server.js';
import { Metrics } from '../server/metrics.js';
import { mountStatusApi } from '../server/status-api.js';
import { GitDirSource } from '../sources/gitdir/git-dir-source.js';
import { StatusStore } from '../state/status-store.js';
import { TaskCache } from '../state/task-cache.js';
import { ResourceStore } from '../store/resource-store.js';
import { LocalTarget } from '../targets/local/local-target.js';
import type { Target } from '../targets/types.js';
import { table } from './output.js';

export interface RunCommandOptions {
  dir: string;
  stateDir: string;
  secretsDir?: string;
  target: string;
  targetUrl?: string;
  listen?: string;
  once?: boolean;
  concurrency: number;
  apiTokenFile?: string;
}

export const DEFAULT_STATE_DIR = '.provisio';

export function openTarget(kind: string, stateDir: string): Target {
  if (kind === 'local') return new LocalTarget(join(stateDir, 'cards.db'));
  throw new Error(
    `--target ${kind}: this version of Provisio loads into the embedded local target only (--target local)`,
  );
}

export async function runCommand(opts: RunCommandOptions): Promise<number> {
  const log = createLogger({ base: { component: 'controller' } });
  const stateDir = resolve(opts.stateDir);
  const store = new ResourceStore();
  const secrets = new LocalSecretResolver(opts.secretsDir ?? process.env.PROVISIO_SECRETS_DIR);
  const source = new GitDirSource({ dir: opts.dir, store, secrets, log });
  const statuses = new StatusStore(stateDir);
  const cache = new TaskCache(join(stateDir, 'state.db'));
  const target = openTarget(opts.target, stateDir);
  const metrics = new Metrics();
  const controller = new Controller({
    store,
    statuses,
    cache,
    target,
    secrets,
    log,
    stateDir,
    concurrency: opts.concurrency,
    onRunFinished: (task, run) => recordMetrics(metrics, task, run),
  });

  await source.load();
  log.info(
    {
      dir: source.dir,
      revision: source.revision,
      connectors: store.list('Connector').length,
      tasks: store.list('Task').length,
    },
    `loaded ${store.list('Connector').length} connectors and ${store.list('Task').length} tasks from ${opts.dir}`,
  );
  controller.start();

  let server: HttpServer | undefined;
  if (opts.listen) {
    server = new HttpServer({ log, auth: TokenAuth.fromEnvironment(opts.apiTokenFile), metrics });
    mountStatusApi(server, { store, statuses, controller, revision: () => source.revision });
    const addr = await server.listen(opts.listen);
    server.ready = true;
    log.info({ address: addr.address, port: addr.port }, `API listening on ${addr.address}:${addr.port}`);
  }

  const shutdown = async () => {
    await source.close();
    await server?.close();
    await controller.close();
    cache.close();
    await target.close();
  };

  if (opts.once) {
    const { ran, failed } = await controller.runOnce();
    printOnceSummary(ran, statuses);
    await shutdown();
    if (ran.length === 0) console.error('no scheduled task could run: see `provisio get tasks` for why');
    return failed.length > 0 || ran.length === 0 ? 1 : 0;
  }

  await source.watch();
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down: running tasks are stopped and recorded');
      done();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await shutdown();
  return 0;
}

function recordMetrics(metrics: Metrics, task: Task, run: TaskRunSummary): void {
  const labels = { namespace: namespaceOf(task), task: task.metadata.name };
  const result = runSucceeded(run) ? 'Succeeded' : run.extract?.status === 'Stopped' ? 'Stopped' : 'Failed';
  metrics.runs.inc({ ...labels, result });
  if (run.startTime) metrics.runDuration.observe(labels, (Date.now() - Date.parse(run.startTime)) / 1000);
  metrics.records.inc(labels, run.extract?.records ?? 0);
  for (const op of ['created', 'updated', 'deleted'] as const) {
    metrics.cards.inc({ ...labels, operation: op }, run.load?.[op] ?? 0);
  }
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
