/**
 * The operation verbs (`trigger`, `suspend`, `resume`) and `get --server`, as child processes talking to a
 * `provisio run` child process over its API, with and without a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRunSummary } from '../../src/model/resources.js';
import { connectorYaml, employeeRows, type GitRepo, gitRepo, taskYaml, tempDir } from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli, type RunningController, startRun } from '../server/child.js';

const BROKEN =
  'response from GET /broken has an error at "errors" (errorMarker): HR database is down; read 0 records in 1 API call';
const TOKEN = { PROVISIO_API_TOKEN: 'tok1' };

let api: RestFixtureServer;
let repo: GitRepo;
let state: { dir: string; cleanup(): void };
let ctl: RunningController;

async function lastRun(task: string): Promise<TaskRunSummary> {
  const res = await fetch(`${ctl.url}/api/v1/namespaces/iga/tasks/${task}`);
  return ((await res.json()) as { status: { lastRun: TaskRunSummary } }).status.lastRun;
}

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
  api.route('GET', '/broken', () => ({ json: { errors: 'HR database is down', resultset: [] } }));
  repo = gitRepo();
  repo.write('hr-api.yaml', connectorYaml({ baseUrl: api.url }));
  repo.write('hr-employees.yaml', taskYaml());
  repo.write('hr-broken.yaml', taskYaml({ name: 'hr-broken', query: '/broken', template: 'broken' }));
  repo.commit();
  state = tempDir();
  ctl = await startRun(['--dir', repo.dir, '--state-dir', state.dir], { PROVISIO_API_TOKENS: 'tok1' });
});
afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await api.close();
  repo.cleanup();
  state.cleanup();
});

describe('trigger --wait', () => {
  it('follows a run to its end, prints the run line (no progress bar without a terminal) and exits 0', async () => {
    const r = await cli(['trigger', 'iga/hr-employees', '--wait', '--server', ctl.url], { env: TOKEN });
    const run = await lastRun('hr-employees');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      'task iga/hr-employees: trigger queued\n' +
        `run ${run.id}: extract Succeeded (read 3 records in 1 API call); ` +
        'load Succeeded (created 3, updated 0, unchanged 0, marked deleted 0, not loaded 0)\n',
    );
    expect(run.trigger).toBe('manual');
  });

  it('exits 1 when the run fails, with the failure in the run line', async () => {
    const r = await cli(['trigger', 'hr-broken', '-n', 'iga', '--wait', '--server', ctl.url], { env: TOKEN });
    const run = await lastRun('hr-broken');
    expect(r).toMatchObject({ code: 1, stderr: '' });
    expect(r.stdout).toBe(
      'task iga/hr-broken: trigger queued\n' +
        `run ${run.id}: extract Failed (${BROKEN}); load Skipped (deletion marking skipped: the extract did not ` +
        'complete; created 0, updated 0, unchanged 0, marked deleted 0, not loaded 0)\n',
    );
  });
});

describe('errors from the controller', () => {
  it('an unknown task: "controller answered 404" and a non-zero exit', async () => {
    const r = await cli(['trigger', 'iga/hr-nobody', '--server', ctl.url], { env: TOKEN });
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: controller answered 404: Task "hr-nobody" not found in namespace "iga"\n',
    });
  });

  it('no token: "controller answered 401"', async () => {
    const r = await cli(['trigger', 'iga/hr-employees', '--server', ctl.url]);
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'error: controller answered 401: a valid bearer token is required (Authorization: Bearer <token>) ' +
        "(set PROVISIO_API_TOKEN to one of the controller's API tokens)\n",
    });
  });

  it('a suspended task: trigger refused until resume', async () => {
    expect(await cli(['suspend', 'iga/hr-employees', '--server', ctl.url], { env: TOKEN })).toMatchObject({
      code: 0,
      stdout: 'task iga/hr-employees: suspend suspended\n',
    });
    expect(await cli(['trigger', 'iga/hr-employees', '--server', ctl.url], { env: TOKEN })).toMatchObject({
      code: 1,
      stderr: 'error: controller answered 409: the task is suspended: resume it first\n',
    });
    expect(await cli(['resume', 'iga/hr-employees', '--server', ctl.url], { env: TOKEN })).toMatchObject({
      code: 0,
      stdout: 'task iga/hr-employees: resume resumed\n',
    });
  });
});

describe('get --server', () => {
  it('reads the tasks from the running controller', async () => {
    const r = await cli(['get', 'tasks', '--server', ctl.url, '-n', 'iga', '-o', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { items: Array<{ metadata: { name: string }; status: { phase: string } }> };
    expect(list.items.map((i) => [i.metadata.name, i.status.phase])).toEqual([
      ['hr-broken', 'Idle'],
      ['hr-employees', 'Idle'],
    ]);
  });
});
