/**
 * `provisio run --once` and the verbs that read what it left behind without a running controller
 * (`get`, `describe`, `cards` with --dir/--state-dir), each as a child process with real exit codes and output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { age } from '../../src/cli/output.js';
import type { TaskRunSummary } from '../../src/model/resources.js';
import { nextRunTime } from '../../src/scheduler/schedule.js';
import {
  connectorYaml,
  employeeRows,
  type GitRepo,
  gitRepo,
  taskYaml,
  tempDir,
  YEARLY,
} from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli } from '../server/child.js';

const BROKEN =
  'response from GET /broken has an error at "errors" (errorMarker): HR database is down; read 0 records in 1 API call';
const HEADER =
  'TASK               EXTRACT     RECORDS   LOAD        CREATED   UPDATED   UNCHANGED   DELETED   NOT LOADED   MESSAGE';

let api: RestFixtureServer;
const repos: GitRepo[] = [];
const states: Array<{ dir: string; cleanup(): void }> = [];

function workspace(files: Record<string, string>) {
  const repo = gitRepo();
  repo.write('hr-api.yaml', connectorYaml({ baseUrl: api.url }));
  for (const [name, text] of Object.entries(files)) repo.write(name, text);
  const head = repo.commit();
  const state = tempDir();
  repos.push(repo);
  states.push(state);
  return { dir: repo.dir, head, stateDir: state.dir };
}

/** Cells of a kubectl-style table line: columns are separated by three or more spaces. */
const cells = (line: string) => line.split(/ {3,}/);
const lines = (text: string) => text.trimEnd().split('\n');

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
  api.route('GET', '/broken', () => ({ json: { errors: 'HR database is down', resultset: [] } }));
});
afterAll(async () => {
  await api.close();
  for (const r of repos) r.cleanup();
  for (const s of states) s.cleanup();
});

describe('run --once', () => {
  it('exits 0 when every run succeeds, and a second run finds every record unchanged', async () => {
    const ws = workspace({ 'hr-employees.yaml': taskYaml() });
    const first = await cli(['run', '--dir', ws.dir, '--state-dir', ws.stateDir, '--once']);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(
      `${HEADER}\n` +
        'iga/hr-employees   Succeeded   3         Succeeded   3         0         0           0         0\n',
    );
    const second = await cli(['run', '--dir', ws.dir, '--state-dir', ws.stateDir, '--once']);
    expect(second.code).toBe(0);
    expect(lines(second.stdout)[1]).toBe(
      'iga/hr-employees   Succeeded   3         Succeeded   0         0         3           0         0',
    );
  });

  it('puts --environment into every log line, and refuses an unknown environment type', async () => {
    const ws = workspace({ 'hr-employees.yaml': taskYaml() });
    const r = await cli(['run', '--dir', ws.dir, '--state-dir', ws.stateDir, '--once', '--environment', 'test'], {
      env: { PROVISIO_LOG_LEVEL: 'info' },
    });
    expect(r.code).toBe(0);
    const entries = lines(r.stderr).map((l) => JSON.parse(l) as { environment?: string; msg: string });
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.filter((e) => e.environment !== 'test')).toEqual([]);
    const bad = await cli(['run', '--dir', ws.dir, '--once', '--environment', 'staging']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "option '--environment <type>' argument 'staging' is invalid. Allowed choices are test, prod, demo, dev.",
    );
  });

  it('exits 1 when a run fails, with the failure message in its row', async () => {
    const ws = workspace({
      'hr-employees.yaml': taskYaml(),
      'hr-broken.yaml': taskYaml({ name: 'hr-broken', query: '/broken', template: 'broken' }),
    });
    const r = await cli(['run', '--dir', ws.dir, '--state-dir', ws.stateDir, '--once']);
    expect(r.code).toBe(1);
    // The failed run is the one line at warn or above: at error, with the task, the run and the reason.
    const logged = lines(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toEqual([
      expect.objectContaining({
        level: 50,
        component: 'controller',
        task: 'iga/hr-broken',
        reason: 'ExtractFailed',
        msg: expect.stringMatching(
          new RegExp(`^run \\S+ of task iga/hr-broken failed \\(ExtractFailed\\): ${BROKEN.replace(/[()]/g, '\\$&')}$`),
        ),
      }),
    ]);
    expect(r.stdout).toBe(
      `${HEADER}\n` +
        `iga/hr-broken      Failed      0         Skipped     0         0         0           0         0            ${BROKEN}\n` +
        'iga/hr-employees   Succeeded   3         Succeeded   3         0         0           0         0\n',
    );
  });

  it('exits 1 and says why when no scheduled task can run', async () => {
    const ws = workspace({ 'hr-employees.yaml': taskYaml({ maxFraction: 1.5 }) });
    const r = await cli(['run', '--dir', ws.dir, '--state-dir', ws.stateDir, '--once']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'TASK   EXTRACT   RECORDS   LOAD   CREATED   UPDATED   UNCHANGED   DELETED   NOT LOADED   MESSAGE\n',
    );
    // The log line (pino) and the CLI's own line are two writers to stderr: their order is not fixed.
    const all = lines(r.stderr);
    const warning = all.find((l) => l.startsWith('{')) ?? '';
    const why = all.find((l) => !l.startsWith('{'));
    expect(all).toHaveLength(2);
    expect(JSON.parse(warning)).toMatchObject({
      level: 40,
      resource: 'Task iga/hr-employees',
      msg: `invalid resource: ${ws.dir}/hr-employees.yaml:24:27  spec.deletion.maxFraction  must be <= 1, not 1.5`,
    });
    expect(why).toBe('no scheduled task could run: see `provisio get tasks` for why');
  });
});

describe('reading the state of a finished --once', () => {
  let ws: ReturnType<typeof workspace>;
  let ok: TaskRunSummary;
  let failed: TaskRunSummary;
  const src = () => ['--dir', ws.dir, '--state-dir', ws.stateDir, '-n', 'iga'];

  beforeAll(async () => {
    ws = workspace({
      'hr-employees.yaml': taskYaml(),
      'hr-broken.yaml': taskYaml({ name: 'hr-broken', query: '/broken', template: 'broken' }),
    });
    expect((await cli(['run', '--dir', ws.dir, '--state-dir', ws.stateDir, '--once'])).code).toBe(1);
    const json = await cli(['get', 'tasks', ...src(), '-o', 'json']);
    const list = JSON.parse(json.stdout) as { items: Array<{ status: { lastRun: TaskRunSummary } }> };
    [failed, ok] = list.items.map((i) => i.status.lastRun);
  });

  it('get tasks -o json is a List of the tasks with their status', async () => {
    const r = await cli(['get', 'tasks', ...src(), '-o', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    expect(list.items).toHaveLength(2);
    expect(list.items[0]).toMatchObject({
      kind: 'Task',
      metadata: { name: 'hr-broken', namespace: 'iga', generation: 1 },
      status: { phase: 'Idle', lastRun: { extract: { status: 'Failed', info: BROKEN }, load: { status: 'Skipped' } } },
    });
    expect(list.items[1]).toMatchObject({
      metadata: { name: 'hr-employees' },
      status: { lastRun: { extract: { status: 'Succeeded', records: 3 }, load: { status: 'Succeeded', created: 3 } } },
    });
  });

  it('get tasks prints the table: phase, extract and load apart, last run, next run, readiness and why not', async () => {
    const r = await cli(['get', 'tasks', ...src()]);
    expect(r.code).toBe(0);
    const [header, broken, employees] = lines(r.stdout);
    expect(cells(header)).toEqual([
      'NAMESPACE',
      'NAME',
      'CONNECTOR',
      'USAGE',
      'PHASE',
      'EXTRACT',
      'LOAD',
      'LAST RUN',
      'NEXT RUN',
      'READY',
      'MESSAGE',
    ]);
    const next = nextRunTime({ cron: YEARLY }, new Date(), 'iga/hr-employees')!.getTime();
    const inNext = `in ${age(new Date(Date.now() - (next - Date.now())).toISOString())}`;
    const nextBroken = nextRunTime({ cron: YEARLY }, new Date(), 'iga/hr-broken')!.getTime();
    const inNextBroken = `in ${age(new Date(Date.now() - (nextBroken - Date.now())).toISOString())}`;
    expect(cells(broken)).toEqual([
      'iga',
      'hr-broken',
      'hr-api',
      'scheduled',
      'Idle',
      'Failed',
      'Skipped',
      expect.stringMatching(/^\d+s ago$/),
      inNextBroken,
      'False',
      `ExtractFailed: run ${failed.id}: ${BROKEN}`,
    ]);
    expect(cells(employees)).toEqual([
      'iga',
      'hr-employees',
      'hr-api',
      'scheduled',
      'Idle',
      'Succeeded',
      'Succeeded',
      expect.stringMatching(/^\d+s ago$/),
      inNext,
      'True',
    ]);
  });

  it('get connectors shows the health of the connector and, when a task fails, which one and why', async () => {
    const r = await cli(['get', 'connectors', ...src()]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map(cells)).toEqual([
      ['NAMESPACE', 'NAME', 'TYPE', 'HEALTH', 'SCHEDULED', 'EVENT', 'READY', 'MESSAGE'],
      [
        'iga',
        'hr-api',
        'rest',
        'Degraded',
        '2',
        '0',
        'False',
        `Degraded: 1 of 2 scheduled tasks failed its last run; hr-broken: ExtractFailed: run ${failed.id}: ${BROKEN}`,
      ],
    ]);
  });

  it('describe task shows the source, conditions and history', async () => {
    const r = await cli(['describe', 'task', 'hr-employees', ...src()]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.slice(0, 5)).toEqual([
      'Name:        hr-employees',
      'Namespace:   iga',
      'Kind:        Task',
      'Generation:  1',
      `Source:      ${ws.dir}/hr-employees.yaml:1 @ ${ws.head.slice(0, 12)}`,
    ]);
    const cond = out.indexOf('Conditions:');
    expect(cond).toBeGreaterThan(0);
    expect(cells(out[cond + 1].trim())).toEqual(['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE']);
    expect(cells(out[cond + 2].trim())).toEqual([
      'Ready',
      'True',
      'Succeeded',
      expect.stringMatching(/^\d+s ago$/),
      `run ${ok.id}: created 3, updated 0, unchanged 0, marked deleted 0, not loaded 0`,
    ]);
    const hist = out.indexOf('History:');
    const events = out.indexOf('Events:');
    expect(out.slice(hist + 1, events).map((l) => cells(l.trim()))).toEqual([
      ['ID', 'TRIGGER', 'START', 'RESULT', 'RECORDS', 'CREATED', 'UPDATED', 'DELETED'],
      [ok.id, 'manual', ok.startTime, 'Succeeded', '3', '3', '0', '0'],
    ]);
    // The run's Events, kept in the state directory by `run --once`, as kubectl describe ends.
    expect(out.slice(events + 3).map((l) => cells(l.trim()).slice(0, 2))).toEqual([
      ['Normal', 'RunStarted'],
      ['Normal', 'Succeeded'],
    ]);
  });

  it('get runs lists the runs of a task, with their duration and why a run failed', async () => {
    const r = await cli(['get', 'runs', 'hr-broken', ...src()]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map(cells)).toEqual([
      [
        'ID',
        'TRIGGER',
        'START',
        'DURATION',
        'EXTRACT',
        'RECORDS',
        'LOAD',
        'CREATED',
        'UPDATED',
        'UNCHANGED',
        'DELETED',
        'NOT LOADED',
        'REASON',
      ],
      [
        failed.id,
        'manual',
        failed.startTime,
        expect.stringMatching(/^\d+ms$|^\d+\.\ds$/),
        'Failed',
        '0',
        'Skipped',
        '0',
        '0',
        '0',
        '0',
        '0',
        `ExtractFailed: ${BROKEN}`,
      ],
    ]);
  });

  it('cards prints the loaded data cards', async () => {
    const r = await cli(['cards', 'employee', '--state-dir', ws.stateDir, '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { employee_id: 'E1', name: 'Employee 1', task_id: 'iga/hr-employees' },
      { employee_id: 'E2', name: 'Employee 2', task_id: 'iga/hr-employees' },
      { employee_id: 'E3', name: 'Employee 3', task_id: 'iga/hr-employees' },
    ]);
  });

  it('names an unknown task and exits non-zero', async () => {
    const r = await cli(['describe', 'task', 'hr-nobody', ...src()]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'error: Task "hr-nobody" not found in namespace "iga"\n' });
  });
});
