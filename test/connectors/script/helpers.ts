/**
 * Script connector tests run real python3 on real scripts written into a temp folder, next to a (virtual)
 * connector file in that folder, through the real engine and local target.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRegistry } from '../../../src/connectors/registry.js';
import type { ScriptRuntimeOptions } from '../../../src/connectors/script/index.js';
import { extractScript, scriptConnector as scriptType } from '../../../src/connectors/script/index.js';
import { runTask } from '../../../src/engine/run-task.js';
import type { Logger } from '../../../src/log/logger.js';
import type { Connector, Task, TaskRunSummary } from '../../../src/model/resources.js';
import { type EngineFixture, engineFixture } from '../../engine/helpers.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';

export const FIXTURES = join(dirname(new URL(import.meta.url).pathname), 'fixtures');
export const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

export interface ScriptLab {
  /** The folder holding the connector file and its scripts. */
  dir: string;
  /** The connector's (virtual) YAML file: relative script paths resolve against its folder. */
  connectorFile: string;
  /** A folder outside the run's working directory where scripts leave evidence for the test. */
  evidence: string;
  secrets: SecretsDir;
  fx: EngineFixture;
  script(name: string, code: string): string;
  run(connector: Connector, task: Task, signal?: AbortSignal): Promise<TaskRunSummary>;
  close(): Promise<void>;
}

export async function scriptLab(
  log?: Logger,
  options: ScriptRuntimeOptions = { graceMs: 300, logPollMs: 50 },
  secrets: Record<string, Record<string, string>> = {},
): Promise<ScriptLab> {
  const dir = await mkdtemp(join(tmpdir(), 'provisio-script-lab-'));
  const evidence = join(dir, 'evidence');
  mkdirSync(evidence);
  const connectorFile = join(dir, 'connector.yaml');
  writeFileSync(connectorFile, '# resources of the test live in memory\n');
  const fx = engineFixture();
  const s = await createSecretsDir(secrets);
  fx.deps.secrets = s.resolver;
  if (log) fx.deps.log = log;
  fx.deps.connectorTypes = createRegistry([{ ...scriptType, extract: (ctx) => extractScript(ctx, options) }]);
  return {
    dir,
    connectorFile,
    evidence,
    secrets: s,
    fx,
    script(name, code) {
      const file = join(dir, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, code);
      return file;
    },
    run: (connector, task, signal = new AbortController().signal) =>
      runTask(fx.deps, {
        task,
        connector,
        connectorFile,
        runId: `run-${Math.random().toString(36).slice(2, 8)}`,
        trigger: 'manual',
        plannedTime: new Date(),
        signal,
      }),
    async close() {
      await fx.close();
      await s.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function scriptConnector(
  path: string,
  script: Partial<NonNullable<Connector['spec']['script']>> = {},
): Connector {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Connector',
    metadata: { name: 'custom', namespace: 'iga' },
    spec: { type: 'script', script: { source: { path }, interpreter: 'python3', ...script } },
  };
}

type Attr = NonNullable<NonNullable<Task['spec']['mappings']>['generic']>['attributes'][number];

export function scriptTask(
  attributes: Attr[] = [
    { external: 'id', local: 'employee_id', unique: true },
    { external: 'name', local: 'name' },
  ],
  source: NonNullable<NonNullable<Task['spec']['source']>['script']> = {},
  overrides: Partial<Task['spec']> = {},
): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'custom-rows', namespace: 'iga' },
    spec: {
      connectorRef: { name: 'custom' },
      usage: 'scheduled',
      mappingsType: 'generic',
      schedule: { interval: '1h' },
      source: { script: source },
      mappings: {
        generic: {
          template: 'employee',
          taskIdAttribute: 'task_id',
          onDeleted: { attribute: 'status', value: 'Deleted' },
          attributes,
        },
      },
      deletion: { maxFraction: 1 },
      ...overrides,
    },
  };
}

/** Whether a process is gone: no such PID, or a zombie waiting for a parent that does not reap it. */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
