/**
 * Logs and Events an admin can use (issue 16, part 6), against `provisio run --listen` in a child process:
 * operations logged with their caller, one key once per line, `provisio logs` (with --run and -f) from the
 * controller's per-task ring, and Events in git mode (state directory, status API, `describe`).
 */
import { spawn } from 'node:child_process';
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
import { cli, type RunningController, repoRoot, startRun } from './child.js';

let api: RestFixtureServer;
let repo: GitRepo;
let state: { dir: string; cleanup(): void };
let ctl: RunningController;
let broken: TaskRunSummary;
let ok: TaskRunSummary;

const TOKEN = { PROVISIO_API_TOKEN: 'tok1' };
const BROKEN =
  'response from GET /broken has an error at "errors" (errorMarker): HR database is down; read 0 records in 1 API call';

async function runToEnd(task: string, n: number): Promise<TaskRunSummary> {
  const res = await fetch(`${ctl.url}/api/v1/namespaces/iga/tasks/${task}/trigger`, {
    method: 'POST',
    headers: { authorization: 'Bearer tok1' },
  });
  expect(res.status).toBe(202);
  return waitFor(`run ${n} of ${task}`, async () => {
    const r = await fetch(`${ctl.url}/api/v1/namespaces/iga/tasks/${task}`);
    const h = ((await r.json()) as { status: { history?: TaskRunSummary[] } }).status.history ?? [];
    return h.length >= n ? h[0] : undefined;
  });
}

const logLines = () =>
  ctl
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'));

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
  ctl = await startRun(['--dir', repo.dir, '--state-dir', state.dir], {
    PROVISIO_API_TOKENS: 'tok1',
    PROVISIO_LOG_LEVEL: 'debug',
  });
  ok = await runToEnd('hr-employees', 1);
  broken = await runToEnd('hr-broken', 1);
});
afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await api.close();
  repo.cleanup();
  state.cleanup();
});

describe('the controller log', () => {
  it('logs the failed run at error, and each operation with its caller', async () => {
    // The child writes its log asynchronously: wait until the run's last line is out.
    const entries = await waitFor('the error line', () => {
      const all = logLines().map((l) => JSON.parse(l) as Record<string, unknown>);
      return all.some((e) => e.level === 50) ? all : undefined;
    });
    expect(entries.filter((e) => e.level === 50)).toEqual([
      expect.objectContaining({
        task: 'iga/hr-broken',
        run: broken.id,
        reason: 'ExtractFailed',
        msg: `run ${broken.id} of task iga/hr-broken failed (ExtractFailed): ${BROKEN}`,
      }),
    ]);
    const ops = entries.filter((e) => e.operation === 'trigger');
    expect(ops).toHaveLength(2);
    expect(ops[0]).toMatchObject({ task: 'iga/hr-employees', caller: expect.stringMatching(/^token-[0-9a-f]{8}$/) });
    expect(ops[0].msg).toBe(`trigger of Task iga/hr-employees requested by ${ops[0].caller}: queued`);
  });

  it('writes no key twice in a line', () => {
    const lines = logLines();
    expect(lines.some((l) => l.includes('"component":"scheduler"'))).toBe(true);
    for (const line of lines) {
      const keys = [...line.matchAll(/[{,]"([^"]+)":/g)].map((m) => m[1]);
      // Top-level keys only matter here; nested objects (err, fields) may repeat a name at their own level.
      const parsed = Object.keys(JSON.parse(line));
      expect(keys.filter((k) => k === 'component')).toHaveLength(parsed.includes('component') ? 1 : 0);
      expect(new Set(parsed).size).toBe(parsed.length);
    }
  });
});

describe('provisio logs', () => {
  it("prints a task's lines from the controller, and only one run's with --run", async () => {
    const r = await cli(['logs', 'iga/hr-broken', '--server', ctl.url], { env: TOKEN });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = r.stdout.trimEnd().split('\n');
    expect(out).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ERROR \\[run ${broken.id}\\] run ${broken.id} of task iga/hr-broken failed \\(ExtractFailed\\): `,
        ),
      ),
    );
    expect(out).toContainEqual(expect.stringMatching(/ INFO {2}trigger of Task iga\/hr-broken requested by token-/));
    expect(r.stdout).not.toContain('hr-employees');

    const one = await cli(['logs', 'hr-employees', '-n', 'iga', '--run', ok.id!, '--server', ctl.url], { env: TOKEN });
    expect(one.code).toBe(0);
    const lines = one.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l).toContain(`[run ${ok.id}]`);
    expect(lines.at(-1)).toMatch(/ INFO {2}\[run \S+\] run succeeded: read 3 records in 1 API call; created 3/);
  });

  it('follows new lines with -f', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'logs', 'iga/hr-broken', '-f', '--server', ctl.url],
      { cwd: repoRoot, env: { ...process.env, ...TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    try {
      await waitFor('the first lines', () => out.includes(`[run ${broken.id}]`), 15_000);
      const again = await runToEnd('hr-broken', 2);
      await waitFor('the new run followed', () => out.includes(`run ${again.id} of task iga/hr-broken failed`), 15_000);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('needs a token', async () => {
    const r = await cli(['logs', 'iga/hr-broken', '--server', ctl.url]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/401/);
  });
});

describe('Events in git mode', () => {
  it('are served by the status API', async () => {
    const res = await fetch(`${ctl.url}/api/v1/namespaces/iga/tasks/hr-employees/events`);
    const body = (await res.json()) as { items: Array<Record<string, unknown>> };
    expect(body.items.map((e) => [e.type, e.reason, e.message, e.count, e.source])).toEqual([
      ['Normal', 'RunStarted', `run ${ok.id} started (manual)`, 1, 'provisio-controller'],
      [
        'Normal',
        'Succeeded',
        `run ${ok.id}: 3 records read; 3 cards created, 0 updated, 0 unchanged, 0 marked deleted`,
        1,
        'provisio-controller',
      ],
    ]);
  });

  it('are shown by describe, from the controller and from the state directory', async () => {
    for (const source of [
      ['--server', ctl.url],
      ['--dir', repo.dir, '--state-dir', state.dir],
    ]) {
      const r = await cli(['describe', 'task', 'iga/hr-broken', ...source]);
      expect(r.code).toBe(0);
      const lines = r.stdout.split('\n');
      const at = lines.indexOf('Events:');
      expect(at).toBeGreaterThan(0);
      const rows = lines.slice(at + 1).map((l) => l.trim().split(/ {3,}/));
      expect(rows[0]).toEqual(['Type', 'Reason', 'Age', 'From', 'Message']);
      expect(rows[1]).toEqual(['----', '------', '----', '----', '-------']);
      expect(rows).toContainEqual([
        'Warning',
        'ExtractFailed',
        expect.stringMatching(/^\d+s$/),
        'provisio-controller',
        `run ${broken.id}: ${BROKEN}`,
      ]);
    }
  });
});
