/**
 * The habits kubectl and flux users bring (issue 16, part 2), each as a child process: the namespace rule, exit
 * codes, output formats, selectors, watch, version, completion, explain, closed pipes, and the operation verbs'
 * answers for a running task, an event task and a task in another namespace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import {
  connectorYaml,
  employeeRows,
  eventTaskYaml,
  type GitRepo,
  gitRepo,
  taskYaml,
  tempDir,
} from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli, type RunningController, repoRoot, startRun } from '../server/child.js';

// Each case runs several CLI child processes; on a busy 2-core machine one takes a few seconds.
vi.setConfig({ testTimeout: 120_000 });

const TOKEN = { PROVISIO_API_TOKEN: 'tok1' };
let api: RestFixtureServer;
let repo: GitRepo;
const temps: Array<{ dir: string; cleanup(): void }> = [];
const temp = () => {
  const t = tempDir();
  temps.push(t);
  return t.dir;
};
let state: string;
const src = () => ['--dir', repo.dir, '--state-dir', state];
const lines = (text: string) => text.trimEnd().split('\n');

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
  repo = gitRepo();
  repo.write(
    'hr-api.yaml',
    connectorYaml({ baseUrl: api.url }).replace('  namespace: iga\n', '  namespace: iga\n  labels: {team: hr}\n'),
  );
  repo.write('hr-employees.yaml', taskYaml());
  repo.write('hr-update.yaml', eventTaskYaml());
  repo.write('other-api.yaml', connectorYaml({ baseUrl: api.url, name: 'other-api', namespace: 'other' }));
  repo.write(
    'other.yaml',
    taskYaml({ name: 'other-employees', namespace: 'other', connector: 'other-api', template: 'other' }),
  );
  repo.commit();
  state = temp();
  const run = await cli(['run', ...src(), '--once']);
  expect(run.code, run.stderr).toBe(0);
});
afterAll(async () => {
  await api.close();
  repo.cleanup();
  for (const t of temps) t.cleanup();
});

describe('one namespace rule: default unless -n or -A', () => {
  it('get without -n shows the default namespace, -n one namespace, -A all', async () => {
    expect(await cli(['get', 'tasks', ...src()])).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'No resources found in default namespace.\n',
    });
    const iga = await cli(['get', 'tasks', ...src(), '-n', 'iga', '-o', 'name']);
    expect(iga.stdout).toBe('task.provisio.dev/hr-employees\ntask.provisio.dev/hr-update\n');
    const all = await cli(['get', 'tasks', ...src(), '-A', '-o', 'jsonpath={.items[*].metadata.namespace}']);
    expect(all.stdout).toBe('iga iga other\n');
  });

  it('a name that exists in another namespace: exit 1, naming the -n that finds it', async () => {
    expect(await cli(['describe', 'task', 'hr-employees', ...src()])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: Task "hr-employees" not found in namespace "default"; it exists in namespace "iga": use -n iga\n',
    });
    expect((await cli(['describe', 'task', 'hr-employees', ...src(), '-n', 'iga'])).code).toBe(0);
    expect((await cli(['get', 'tasks', 'iga/hr-employees', ...src(), '-o', 'name'])).stdout).toBe(
      'task.provisio.dev/hr-employees\n',
    );
  });
});

describe('exit codes', () => {
  it('2 for a mistake in the command line, 1 for a failed operation', async () => {
    expect(await cli(['get', 'widgets', ...src()])).toMatchObject({
      code: 2,
      stderr: 'error: unknown resource type "widgets": use connectors, tasks, runs or all\n',
    });
    expect((await cli(['get', 'tasks', ...src(), '-o', 'xml'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['get', 'tasks', '-n', 'iga'])).stderr).toBe(
      'error: give --dir PATH (the resource directory) or --server URL (a running controller)\n',
    );
    expect((await cli(['get', 'tasks', 'nobody', ...src(), '-n', 'iga'])).code).toBe(1);
  });
});

describe('output', () => {
  it('-o wide adds where each resource is declared, its revision and labels', async () => {
    const r = await cli(['get', 'connectors', ...src(), '-n', 'iga', '-o', 'wide']);
    const [header, row] = lines(r.stdout).map((l) => l.split(/ {3,}/));
    expect(header.slice(-3)).toEqual(['SOURCE', 'REVISION', 'LABELS']);
    expect(row.slice(-3)).toEqual([`${repo.dir}/hr-api.yaml:1`, repo.head().slice(0, 12), 'team=hr']);
  });

  it('-l selects by label; a malformed selector is a usage error', async () => {
    expect((await cli(['get', 'connectors', ...src(), '-A', '-l', 'team=hr', '-o', 'name'])).stdout).toBe(
      'connector.provisio.dev/hr-api\n',
    );
    expect((await cli(['get', 'connectors', ...src(), '-A', '-l', '!team', '-o', 'name'])).stdout).toBe(
      'connector.provisio.dev/other-api\n',
    );
    expect((await cli(['get', 'connectors', ...src(), '-A', '-l', 'team in (finance)'])).stderr).toBe(
      'No resources found.\n',
    );
    expect(await cli(['get', 'connectors', ...src(), '-l', 'team=hr=x'])).toMatchObject({ code: 2 });
  });

  it('get all lists connectors and tasks; describe -o yaml prints the object', async () => {
    const all = await cli(['get', 'all', ...src(), '-n', 'iga', '-o', 'json']);
    const list = JSON.parse(all.stdout) as { items: Array<{ kind: string; metadata: { name: string } }> };
    expect(list.items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual([
      'Connector/hr-api',
      'Task/hr-employees',
      'Task/hr-update',
    ]);
    const table = await cli(['get', 'all', ...src(), '-n', 'iga']);
    expect(lines(table.stdout).filter((l) => l.startsWith('NAMESPACE'))).toHaveLength(2);
    const d = await cli(['describe', 'task', 'hr-employees', ...src(), '-n', 'iga', '-o', 'yaml']);
    const obj = parse(d.stdout) as { kind: string; status: { lastRun: { load: { created: number } } } };
    expect(obj.kind).toBe('Task');
    expect(obj.status.lastRun.load.created).toBe(3);
  });

  it('cards -o yaml --limit 1 prints one card', async () => {
    const r = await cli(['cards', 'employee', '--state-dir', state, '-o', 'yaml', '--limit', '1']);
    expect(parse(r.stdout)).toEqual([{ employee_id: 'E1', name: 'Employee 1', task_id: 'iga/hr-employees' }]);
  });

  it('a reader that closes the pipe early ends the command quietly (provisio crds | head -1)', async () => {
    for (const args of [['crds'], ['cards', 'employee', '--state-dir', state, '-o', 'json']]) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise((done) => child.on('close', done));
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }
  });
});

describe('watch', () => {
  it('-w prints the table again when a task changes', async () => {
    const fresh = temp();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'get',
        'tasks',
        'hr-employees',
        '--dir',
        repo.dir,
        '--state-dir',
        fresh,
        '-n',
        'iga',
        '-w',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const seen = (re: RegExp) =>
      new Promise<void>((done) => {
        const check = () => {
          if (re.test(out)) done();
          else child.stdout.once('data', check);
        };
        check();
      });
    child.stdout.on('data', (d) => {
      out += d;
    });
    try {
      await seen(/NotReconciled/);
      expect((await cli(['run', '--dir', repo.dir, '--state-dir', fresh, '--once'])).code).toBe(0);
      // EXTRACT and LOAD Succeeded, LAST RUN seconds ago.
      await seen(/Succeeded +Succeeded +\d+s ago/);
      const tables = out.split('\n\n');
      expect(tables.length).toBeGreaterThanOrEqual(2);
      expect(tables.at(-1)).toMatch(/^NAMESPACE {3}NAME/);
    } finally {
      child.kill();
    }
  });
});

describe('version, completion, explain', () => {
  it('--version and version print the package version', async () => {
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    expect((await cli(['version'])).stdout).toMatch(
      /^provisio 0\.1\.0 \(resources provisio\.dev\/v1alpha1, node v20\./,
    );
    expect(JSON.parse((await cli(['version', '-o', 'json'])).stdout)).toMatchObject({ provisio: '0.1.0' });
  });

  it('completion bash completes verbs and resource types in a real bash', async () => {
    const script = (await cli(['completion', 'bash'])).stdout;
    const complete = (...words: string[]) =>
      spawnSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _provisio; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      ).stdout.trim();
    expect(complete('provisio', 'ex')).toBe('export explain');
    expect(complete('provisio', 'get', 't')).toBe('tasks');
    expect(complete('provisio', 'get', '--sel')).toBe('--selector');
    const zsh = (await cli(['completion', 'zsh'])).stdout;
    expect(zsh.split('\n').slice(0, 3)).toEqual([
      '#compdef provisio',
      '# provisio zsh completion: source <(provisio completion zsh)',
      'autoload -U +X bashcompinit && bashcompinit',
    ]);
    const fish = (await cli(['completion', 'fish'])).stdout;
    expect(fish).toContain("complete -c provisio -n '__fish_seen_subcommand_from get' -a tasks\n");
    expect((await cli(['completion', 'tcsh'])).code).toBe(2);
  });

  it('explain prints a field from the schema descriptions', async () => {
    const r = await cli(['explain', 'task.spec.deletion']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).slice(0, 5)).toEqual([
      'KIND:       Task',
      'VERSION:    provisio.dev/v1alpha1',
      '',
      'FIELD: deletion <Object>',
      '',
    ]);
    expect(r.stdout).toMatch(/\n {2}maxFraction\t<number>\n/);
    expect(await cli(['explain', 'task.spec.nope'])).toMatchObject({ code: 2 });
  });
});

describe('operations on a running controller', () => {
  let ctl: RunningController;
  let release: () => void = () => {};
  let reached: () => void = () => {};
  const slowReached = new Promise<void>((r) => {
    reached = r;
  });

  beforeAll(async () => {
    const gate = new Promise<void>((r) => {
      release = r;
    });
    api.route('GET', '/slow', async () => {
      reached();
      await gate;
      return { json: [] };
    });
    const dir = gitRepo();
    dir.write('hr-api.yaml', connectorYaml({ baseUrl: api.url }));
    dir.write('hr-slow.yaml', taskYaml({ name: 'hr-slow', query: '/slow', template: 'slow' }));
    dir.write('hr-update.yaml', eventTaskYaml());
    dir.commit();
    temps.push({ dir: dir.dir, cleanup: dir.cleanup });
    ctl = await startRun(['--dir', dir.dir, '--state-dir', temp()], {
      PROVISIO_API_TOKENS: 'tok1',
      PROVISIO_LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    release();
    await ctl?.stop('SIGKILL');
  });

  it('a task in another namespace: the 404 names the -n that finds it', async () => {
    expect(await cli(['trigger', 'hr-slow', '--server', ctl.url], { env: TOKEN })).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'error: controller answered 404: Task "hr-slow" not found in namespace "default"; it exists in namespace "iga": use -n iga\n',
    });
  });

  it('an event task cannot be triggered', async () => {
    expect(await cli(['trigger', 'hr-update', '-n', 'iga', '--server', ctl.url], { env: TOKEN })).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        'task iga/hr-update is an event task: it has no scheduled runs to trigger ' +
        '(workflows invoke it: POST /api/v1/namespaces/iga/tasks/hr-update/invoke)\n',
    });
  });

  it('a running task: "already running", exit 1, or 0 with --if-idle', async () => {
    const first = await cli(['trigger', 'hr-slow', '-n', 'iga', '--server', ctl.url], { env: TOKEN });
    expect(first).toMatchObject({ code: 0, stdout: 'task iga/hr-slow: trigger queued\n' });
    await slowReached;
    expect(await cli(['trigger', 'hr-slow', '-n', 'iga', '--server', ctl.url], { env: TOKEN })).toMatchObject({
      code: 1,
      stdout: 'task iga/hr-slow is already running: trigger ignored\n',
    });
    expect(
      await cli(['trigger', 'hr-slow', '-n', 'iga', '--if-idle', '--server', ctl.url], { env: TOKEN }),
    ).toMatchObject({ code: 0, stdout: 'task iga/hr-slow is already running: trigger ignored\n' });
    release();
  });

  it("suspend and resume a connector: all its tasks, logged with the caller's token id", async () => {
    const suspend = await cli(['suspend', 'connector', 'hr-api', '-n', 'iga', '--server', ctl.url], { env: TOKEN });
    expect(suspend).toMatchObject({
      code: 0,
      stderr: '',
      stdout: 'connector iga/hr-api: suspended (tasks: iga/hr-slow, iga/hr-update)\n',
    });
    const phase = async () =>
      ((await (await fetch(`${ctl.url}/api/v1/namespaces/iga/tasks/hr-slow`)).json()) as { status: { phase: string } })
        .status.phase;
    expect(await phase()).toBe('Suspended');
    expect(await cli(['trigger', 'hr-slow', '-n', 'iga', '--server', ctl.url], { env: TOKEN })).toMatchObject({
      code: 1,
      stderr: 'error: controller answered 409: the task is suspended: resume it first\n',
    });
    const resume = await cli(['resume', 'connector', 'iga/hr-api', '--server', ctl.url], { env: TOKEN });
    expect(resume.stdout).toBe('connector iga/hr-api: resumed (tasks: iga/hr-slow, iga/hr-update)\n');
    expect(await phase()).not.toBe('Suspended');

    const caller = `token-${createHash('sha256').update('tok1').digest('hex').slice(0, 8)}`;
    const logged = ctl
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"connector":"iga/hr-api"') && l.includes('"operation"'))
      .map((l) => JSON.parse(l) as { msg: string; caller: string; tasks: string[] });
    expect(logged.map((l) => [l.msg, l.caller, l.tasks])).toEqual([
      [`connector iga/hr-api: 2 task(s) suspended by ${caller}`, caller, ['iga/hr-slow', 'iga/hr-update']],
      [`connector iga/hr-api: 2 task(s) resumed by ${caller}`, caller, ['iga/hr-slow', 'iga/hr-update']],
    ]);
    expect((await cli(['trigger', 'connector', 'hr-api', '--server', ctl.url])).code).toBe(2);
  });
});
