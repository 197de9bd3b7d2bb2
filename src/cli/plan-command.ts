/**
 * `provisio plan TASK --dir D`: what a run of the task would do now, against the real source, written nowhere
 * (engine/plan-task.ts, ADR 0010): counts of cards created, updated, left unchanged, marked deleted and
 * restored, and with `-o wide` the first keys of each. Exit 0, or 1 when the run would fail or the deletion
 * guard would refuse.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtInConnectorTypes, typeRules } from '../connectors/registry.js';
import { planTask } from '../engine/plan-task.js';
import { silentLogger } from '../log/logger.js';
import type { Connector, Task } from '../model/resources.js';
import { namespaceOf, refKey } from '../model/resources.js';
import { LocalSecretResolver } from '../secrets/resolver.js';
import { GitDirSource } from '../sources/gitdir/git-dir-source.js';
import { FileLastGood } from '../state/last-good.js';
import { SqliteTaskCache } from '../state/sqlite/sqlite-task-cache.js';
import { ResourceStore, type StoredResource } from '../store/resource-store.js';
import { LocalTarget } from '../targets/local/local-target.js';
import { sharedTarget } from '../targets/types.js';
import { render } from './output.js';
import { runFailureReason } from './run-columns.js';

export interface PlanOptions {
  dir: string;
  stateDir: string;
  secretsDir?: string;
  namespace?: string;
  output: 'table' | 'wide' | 'json' | 'yaml';
  limit: number;
}

async function findTask(name: string, opts: PlanOptions) {
  const lastGood = new FileLastGood(resolve(opts.stateDir), true);
  const store = new ResourceStore(lastGood);
  await new GitDirSource({ dir: opts.dir, store, types: typeRules, log: silentLogger, lastGoodFiles: lastGood }).load();
  const [ns, n] = name.includes('/') ? name.split('/', 2) : [opts.namespace, name];
  const found = store
    .list<Task>('Task')
    .filter((t) => t.declared.metadata.name === n && (!ns || namespaceOf(t.declared) === ns));
  if (found.length !== 1) {
    throw new Error(
      found.length === 0
        ? `Task "${name}" not found${ns ? ` in namespace "${ns}"` : ''} in ${opts.dir}`
        : `Task "${name}" exists in several namespaces (${found.map((t) => namespaceOf(t.declared)).join(', ')}): use -n`,
    );
  }
  const stored: StoredResource<Task> = found[0];
  const task = stored.effective;
  if (!task) throw new Error(`Task ${stored.key} is invalid: ${stored.errors[0]?.message ?? 'see provisio validate'}`);
  if (task.spec.usage !== 'scheduled')
    throw new Error(`Task ${stored.key} is an ${task.spec.usage} task: only scheduled tasks run`);
  const connector = store.get<Connector>(
    'Connector',
    refKey(namespaceOf(task), task.spec.connectorRef.name),
  )?.effective;
  if (!connector)
    throw new Error(`Task ${stored.key}: Connector "${task.spec.connectorRef.name}" is missing or invalid`);
  return { task, connector, key: stored.key };
}

/** An existing state file, or an in-memory one: a plan never creates the state directory's files. */
const existing = (file: string) => (existsSync(file) ? file : ':memory:');

export async function planCommand(name: string, opts: PlanOptions): Promise<number> {
  const { task, connector, key } = await findTask(name, opts);
  const stateDir = resolve(opts.stateDir);
  const cache = new SqliteTaskCache(existing(join(stateDir, 'state.db')));
  const target = new LocalTarget(existing(join(stateDir, 'cards.db')));
  try {
    const plan = await planTask(
      {
        targets: sharedTarget(target),
        connectorTypes: builtInConnectorTypes,
        cache,
        secrets: new LocalSecretResolver(opts.secretsDir ?? process.env.PROVISIO_SECRETS_DIR),
        log: silentLogger,
        artifactsRoot: '',
      },
      {
        task,
        connector,
        runId: `plan-${Date.now()}`,
        trigger: 'manual',
        plannedTime: new Date(),
        signal: AbortSignal.timeout(2 * 3600_000),
      },
      Math.max(opts.limit, 0),
    );
    const { counts, keys } = plan.changes;
    const load = plan.run.load;
    const summary = {
      task: key,
      succeeds: plan.succeeds,
      ...(plan.succeeds ? {} : { reason: runFailureReason(plan.run) }),
      create: counts.create,
      update: counts.update,
      unchanged: load?.unchanged ?? 0,
      markDeleted: counts.delete,
      restore: counts.restore,
      notLoaded: load?.failed ?? 0,
      extract: plan.run.extract?.info,
    };
    if (opts.output === 'json' || opts.output === 'yaml') {
      console.log(render(opts.output, { ...summary, keys }));
    } else {
      console.log(formatPlan(summary, opts.output === 'wide' ? keys : undefined));
    }
    return plan.succeeds ? 0 : 1;
  } finally {
    cache.close();
    await target.close();
  }
}

function formatPlan(
  s: { task: string; succeeds: boolean; reason?: string; extract?: string } & Record<string, unknown>,
  keys?: Record<string, string[]>,
): string {
  const rows: Array<[string, unknown, string?]> = [
    ['create', s.create, 'create'],
    ['update', s.update, 'update'],
    ['unchanged', s.unchanged],
    ['mark deleted', s.markDeleted, 'delete'],
    ['restore', s.restore, 'restore'],
    ['not loaded', s.notLoaded],
  ];
  const lines = [`Plan for Task ${s.task}: the extract would ${s.extract ?? 'read nothing'}; the load would`];
  for (const [label, n, change] of rows) {
    const shown = change && keys ? keys[change] : [];
    const more = change && keys && Number(n) > shown.length ? `, ... (${Number(n) - shown.length} more)` : '';
    lines.push(`  ${label.padEnd(13)}${String(n)}${shown.length > 0 ? `   ${shown.join(', ')}${more}` : ''}`);
  }
  lines.push(s.succeeds ? 'Nothing was written.' : `The run would fail: ${s.reason}. Nothing was written.`);
  return lines.join('\n');
}
