/**
 * The alerting metrics (issue 16, part 8), scraped over HTTP from `provisio run --listen` in a child process:
 * provisio_task_last_success_timestamp_seconds and provisio_resource_ready, read from status at each scrape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRunSummary } from '../../src/model/resources.js';
import {
  connectorYaml,
  employeeRows,
  type GitRepo,
  gitRepo,
  taskYaml,
  tempDir,
  waitFor,
} from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { type RunningController, startRun } from './child.js';

let api: RestFixtureServer;
let repo: GitRepo;
let state: { dir: string; cleanup(): void };
let ctl: RunningController;

const auth = { authorization: 'Bearer tok1' };

async function history(task: string): Promise<TaskRunSummary[]> {
  const res = await fetch(`${ctl.url}/api/v1/namespaces/iga/tasks/${task}`);
  return ((await res.json()) as { status: { history?: TaskRunSummary[] } }).status.history ?? [];
}

async function runToEnd(task: string, runs: number): Promise<TaskRunSummary> {
  const res = await fetch(`${ctl.url}/api/v1/namespaces/iga/tasks/${task}/trigger`, { method: 'POST', headers: auth });
  expect(res.status).toBe(202);
  const h = await waitFor(`run ${runs} of ${task}`, async () => {
    const list = await history(task);
    return list.length >= runs ? list : undefined;
  });
  return h[0];
}

/** The series of one metric, as `labels value` lines. */
async function series(metric: string): Promise<string[]> {
  const res = await fetch(`${ctl.url}/metrics`);
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter((l) => l.startsWith(`${metric}{`))
    .map((l) => l.slice(metric.length))
    .sort();
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

describe('alerting metrics on /metrics', () => {
  it('have every resource ready and no success timestamp before any run', async () => {
    expect(await series('provisio_task_last_success_timestamp_seconds')).toEqual([]);
    // Tasks waiting for their first run are Ready (Scheduled); the connector too (nothing failed yet).
    expect(await series('provisio_resource_ready')).toEqual([
      '{kind="Connector",namespace="iga",name="hr-api"} 1',
      '{kind="Task",namespace="iga",name="hr-broken"} 1',
      '{kind="Task",namespace="iga",name="hr-employees"} 1',
    ]);
  });

  it('give the end of the last successful run per task, and 0 for what is not ready', async () => {
    const ok = await runToEnd('hr-employees', 1);
    const failed = await runToEnd('hr-broken', 1);
    expect(failed.reason).toBe('ExtractFailed');
    const endedAt = Date.parse(ok.load!.completionTime!) / 1000;
    expect(await series('provisio_task_last_success_timestamp_seconds')).toEqual([
      `{namespace="iga",task="hr-employees"} ${endedAt}`,
    ]);
    expect(await series('provisio_resource_ready')).toEqual([
      '{kind="Connector",namespace="iga",name="hr-api"} 0',
      '{kind="Task",namespace="iga",name="hr-broken"} 0',
      '{kind="Task",namespace="iga",name="hr-employees"} 1',
    ]);

    // A failed run later keeps the timestamp of the last success: "no success for 2 h" is what alerts.
    api.route('GET', '/employees', () => ({ json: { errors: 'down for maintenance', resultset: [] } }));
    await runToEnd('hr-employees', 2);
    expect(await series('provisio_task_last_success_timestamp_seconds')).toEqual([
      `{namespace="iga",task="hr-employees"} ${endedAt}`,
    ]);
    expect(await series('provisio_resource_ready')).toContain('{kind="Task",namespace="iga",name="hr-employees"} 0');
  });
});
