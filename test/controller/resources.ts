/**
 * Shared by the source, controller, server and CLI tests: resource YAML as users write it, a throwaway git
 * checkout to put it in, and a poller for state that changes in the background.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ConnectorOptions {
  name?: string;
  namespace?: string;
  baseUrl: string;
}

/** A REST connector with pageIncrement paging (page/size), as the fixture's `page` collections serve. */
export function connectorYaml(o: ConnectorOptions): string {
  return `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata:
  name: ${o.name ?? 'hr-api'}
  namespace: ${o.namespace ?? 'iga'}
spec:
  type: rest
  description: HR system
  rest:
    baseUrl: ${o.baseUrl}
    auth: {type: none}
    pagination: {type: pageIncrement, pageSize: 10}
`;
}

export interface TaskOptions {
  name?: string;
  namespace?: string;
  connector?: string;
  query?: string;
  template?: string;
  annotations?: Record<string, string>;
  /** A value above 1 makes the task invalid (spec.deletion.maxFraction must be <= 1). */
  maxFraction?: number | string;
  /** Default: once a year, so no scheduled tick fires while a test runs. */
  cron?: string;
  suspend?: boolean;
}

/** Yearly: the next run is far away, so only the runs a test asks for happen. */
export const YEARLY = '0 0 1 1 *';

/** A scheduled REST task that loads `employee` cards keyed by employee_id. */
export function taskYaml(o: TaskOptions = {}): string {
  const annotations = o.annotations
    ? `  annotations:\n${Object.entries(o.annotations)
        .map(([k, v]) => `    ${k}: "${v}"`)
        .join('\n')}\n`
    : '';
  return `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata:
  name: ${o.name ?? 'hr-employees'}
  namespace: ${o.namespace ?? 'iga'}
${annotations}spec:
  connectorRef: {name: ${o.connector ?? 'hr-api'}}
  usage: scheduled
  mappingsType: generic
${o.suspend ? '  suspend: true\n' : ''}  schedule: {cron: "${o.cron ?? YEARLY}"}
  source:
    rest:
      query: ${o.query ?? '/employees'}
      errorMarker: errors
  mappings:
    generic:
      template: ${o.template ?? 'employee'}
      folder: employees
      taskIdAttribute: task_id
      onDeleted: {attribute: status, value: Deleted}
      attributes:
        - {external: id, local: employee_id, unique: true}
        - {external: name, local: name}
  deletion: {maxFraction: ${o.maxFraction ?? 0.5}}
`;
}

/** An event task (workflows invoke it; it is never scheduled). */
export function eventTaskYaml(o: { name?: string; namespace?: string; connector?: string } = {}): string {
  return `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata:
  name: ${o.name ?? 'hr-update'}
  namespace: ${o.namespace ?? 'iga'}
spec:
  connectorRef: {name: ${o.connector ?? 'hr-api'}}
  usage: event
  mappingsType: generic
  event:
    query: /employees
  mappings:
    generic:
      template: employee
      attributes:
        - {external: id, local: employee_id}
`;
}

export const employeeRows = (n: number): Array<{ id: string; name: string }> =>
  Array.from({ length: n }, (_, i) => ({ id: `E${i + 1}`, name: `Employee ${i + 1}` }));

/** A temporary directory that is a real git checkout. */
export interface GitRepo {
  dir: string;
  write(file: string, text: string): string;
  remove(file: string): void;
  /** Commits everything; answers the new HEAD. */
  commit(message?: string): string;
  head(): string;
  cleanup(): void;
}

export function gitRepo(prefix = 'provisio-repo-'): GitRepo {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.email=tests@provisio.dev', '-c', 'user.name=Provisio Tests', ...args], {
      encoding: 'utf8',
    }).trim();
  git('init', '-q');
  return {
    dir,
    write(file, text) {
      const path = join(dir, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    remove(file) {
      rmSync(join(dir, file));
    },
    commit(message = 'change') {
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    head: () => git('rev-parse', 'HEAD'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function tempDir(prefix = 'provisio-state-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls until `fn` answers something other than undefined/false, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
