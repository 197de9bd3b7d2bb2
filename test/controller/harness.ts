/**
 * A controller as `provisio run` builds it, minus the CLI: a GitDirSource over a real git checkout, and a real
 * StatusStore, TaskCache and LocalTarget in a state directory. Resource changes go through the source (load()
 * re-reads the directory), so validation findings reach the controller the way they do in production.
 */
import { join } from 'node:path';
import { type ConnectorRegistry, typeRules } from '../../src/connectors/registry.js';
import { Controller } from '../../src/controller/controller.js';
import { type Logger, silentLogger } from '../../src/log/logger.js';
import type { ConnectorStatus, TaskStatus } from '../../src/model/resources.js';
import { LocalSecretResolver, type SecretResolver } from '../../src/secrets/resolver.js';
import { GitDirSource } from '../../src/sources/gitdir/git-dir-source.js';
import { FileLastGood } from '../../src/state/last-good.js';
import { SqliteTaskCache } from '../../src/state/sqlite/sqlite-task-cache.js';
import { FileStatusStore, type StatusRecord, type StatusStore } from '../../src/state/status-store.js';
import type { TaskCache } from '../../src/state/task-cache.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { LocalTarget } from '../../src/targets/local/local-target.js';
import { type Card, sharedTarget } from '../../src/targets/types.js';
import { waitFor } from './resources.js';

export interface Harness {
  store: ResourceStore;
  source: GitDirSource;
  statuses: StatusStore;
  cache: TaskCache;
  target: LocalTarget;
  controller: Controller;
  task(key?: string): StatusRecord<TaskStatus>;
  connector(key?: string): StatusRecord<ConnectorStatus>;
  /** Re-reads the directory's files (as the watcher does after a change; deleted files need watch()). */
  reload(): Promise<void>;
  /** Starts the source's watcher. */
  watch(): Promise<void>;
  /** Waits until the watcher applied a change that `done` sees, then until the source is idle. */
  applied(what: string, done: () => boolean): Promise<void>;
  /** Waits until the task's history holds `n` runs. */
  runs(n: number, key?: string): Promise<StatusRecord<TaskStatus>>;
  cards(template?: string): Promise<Card[]>;
  close(): Promise<void>;
}

export async function startController(
  dir: string,
  stateDir: string,
  opts: {
    start?: boolean;
    secrets?: SecretResolver;
    log?: Logger;
    checkConnections?: boolean;
    /** The connector types the controller knows (default: the built-in ones). */
    connectorTypes?: ConnectorRegistry;
  } = {},
): Promise<Harness> {
  const lastGood = new FileLastGood(stateDir);
  const store = new ResourceStore(lastGood);
  const source = new GitDirSource({
    dir,
    store,
    types: typeRules,
    log: silentLogger,
    debounceMs: 30,
    lastGoodFiles: lastGood,
  });
  await source.load();
  store.forgetAbsentLastGood();
  const statuses = new FileStatusStore(stateDir);
  const cache = new SqliteTaskCache(join(stateDir, 'state.db'));
  const target = new LocalTarget(join(stateDir, 'cards.db'));
  const controller = new Controller({
    store,
    statuses,
    cache,
    targets: sharedTarget(target),
    secrets: opts.secrets ?? new LocalSecretResolver(undefined, {}),
    log: opts.log ?? silentLogger,
    stateDir,
    ...(opts.checkConnections !== undefined ? { checkConnections: opts.checkConnections } : {}),
    ...(opts.connectorTypes ? { connectorTypes: opts.connectorTypes } : {}),
  });
  if (opts.start !== false) controller.start();
  const read = <S>(kind: 'Task' | 'Connector', key: string): StatusRecord<S> => {
    const rec = statuses.read<S>(kind, key);
    if (!rec) throw new Error(`no status recorded for ${kind} ${key}`);
    return rec;
  };
  const h: Harness = {
    store,
    source,
    statuses,
    cache,
    target,
    controller,
    task: (key = 'iga/hr-employees') => read<TaskStatus>('Task', key),
    connector: (key = 'iga/hr-api') => read<ConnectorStatus>('Connector', key),
    reload: () => source.load(),
    watch: () => source.watch(),
    async applied(what, done) {
      await waitFor(what, done);
      await source.settled();
    },
    runs: (n, key = 'iga/hr-employees') =>
      waitFor(`${n} runs of ${key}`, () => {
        const rec = statuses.read<TaskStatus>('Task', key);
        return (rec?.status.history?.length ?? 0) >= n && rec?.status.phase === 'Idle' ? rec : undefined;
      }),
    async cards(template = 'employee') {
      const out: Card[] = [];
      for await (const c of target.list(template)) out.push(c);
      return out;
    },
    async close() {
      await source.close();
      await controller.close();
      cache.close();
      await target.close();
    },
  };
  return h;
}
