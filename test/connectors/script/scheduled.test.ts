/**
 * Scheduled runs of the script connector through the real engine, with real python3: the seeds' example
 * script unchanged, rows and deletes, JSON lines, and every way a script can fail (each fails the run and
 * marks nothing deleted).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLogger } from '../../peers/log-capture.js';
import { fixture, type ScriptLab, scriptConnector, scriptLab, scriptTask } from './helpers.js';

let lab: ScriptLab;
let capture: ReturnType<typeof captureLogger>;

beforeEach(async () => {
  capture = captureLogger('debug');
  lab = await scriptLab(capture.log);
});
afterEach(() => lab.close());

/** A script that writes the given Python expression (a list of dicts) as the output. */
const writes = (rows: string) => `
from common_subroutines_efecte_library import initialize_script
import json
a = initialize_script()
with open(a['expected_output_filename'], 'w') as f:
    json.dump(${rows}, f)
`;

describe("the seeds' example scheduled script, unchanged", () => {
  it('gets the argument set, writes 10 sample rows for the requested attributes, and they load as cards', async () => {
    lab.script('scripts/sample.py', fixture('seed_scheduled.py'));
    const task = scriptTask(
      [
        { external: 'id', local: 'sample_id', unique: true },
        { external: 'description', local: 'description' },
      ],
      { uniqueAttribute: 'id' },
    );
    const run = await lab.run(scriptConnector('scripts/sample.py'), task);
    expect(run.reason).toBe('Succeeded');
    expect(run.extract).toMatchObject({ status: 'Succeeded', records: 10 });
    expect(run.load).toMatchObject({ status: 'Succeeded', created: 10 });
    const cards = await lab.fx.cards('employee');
    expect(cards.map((c) => c.sample_id).sort()).toContain('this is a sample value for row = 1 , key = id');
    expect(cards.find((c) => c.sample_id === 'this is a sample value for row = 7 , key = id')?.description).toBe(
      'this is a sample value for row = 7 , key = description',
    );
    // The script's log_line lines are in the run's log.
    const logged = capture.entries().map((e) => e.msg);
    expect(
      logged.some((m) => /^script: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d - script started processing$/.test(String(m))),
    ).toBe(true);
    expect(logged.some((m) => String(m).endsWith(' - script completed successfully!'))).toBe(true);
  });
});

describe('the log file', () => {
  it("is copied into the run's log while the script runs, not only at its end", async () => {
    const go = join(lab.evidence, 'go');
    lab.script(
      'slow.py',
      `
import json, os, time
from common_subroutines_efecte_library import initialize_script, log_line
a = initialize_script()
log_line(a['log_filename'], 'read 500 of 1000 employees')
while not os.path.exists(${JSON.stringify(go)}):
    time.sleep(0.02)
log_line(a['log_filename'], 'read 1000 of 1000 employees')
with open(a['expected_output_filename'], 'w') as f:
    json.dump([], f)
`,
    );
    const running = lab.run(scriptConnector('slow.py'), scriptTask());
    await vi.waitFor(() => expect(capture.text()).toContain(' - read 500 of 1000 employees'), {
      timeout: 5000,
      interval: 20,
    });
    expect(capture.text()).not.toContain('read 1000 of 1000');
    writeFileSync(go, '');
    expect((await running).reason).toBe('Succeeded');
    expect(capture.text()).toContain(' - read 1000 of 1000 employees');
  });
});

describe('the argument set and the output', () => {
  it('hands over every mapped attribute with multivalue, the files and the task arguments', async () => {
    lab.script(
      'args.py',
      `
from common_subroutines_efecte_library import initialize_script
import json, os
a = initialize_script()
row = {'id': '1', 'args': json.dumps(a, sort_keys=True), 'cwd': os.getcwd()}
with open(a['expected_output_filename'], 'w') as f:
    json.dump([row], f)
`,
    );
    const task = scriptTask(
      [
        { external: 'id', local: 'employee_id', unique: true },
        { external: 'args', local: 'args' },
        { external: 'cwd', local: 'cwd' },
        { external: 'groups', local: 'groups', references: 'generic' },
        { external: 'costCenters', local: 'cost_centers' },
      ],
      { multivalue: ['costCenters'], arguments: { include_leavers: false } },
    );
    // references makes the engine wait for the referenced kind: generic here, the same one; load it as a plain list.
    task.spec.mappings!.generic!.attributes[3] = { external: 'groups', local: 'groups' };
    task.spec.source!.script!.multivalue = ['costCenters', 'groups'];
    const run = await lab.run(scriptConnector('args.py', { parameters: { host: 'h' } }), task);
    expect(run.reason).toBe('Succeeded');
    const [card] = await lab.fx.cards('employee');
    const args = JSON.parse(String(card.args));
    const wd = args.script_current_working_directory;
    expect(args).toEqual({
      data_extraction_attributes: [
        { attributeName: 'id', multivalue: false },
        { attributeName: 'args', multivalue: false },
        { attributeName: 'cwd', multivalue: false },
        { attributeName: 'groups', multivalue: true },
        { attributeName: 'costCenters', multivalue: true },
      ],
      script_current_working_directory: wd,
      error_filename: join(wd, 'error.txt'),
      expected_output_filename: join(wd, 'output.json'),
      heartbeat_filename: join(wd, 'heartbeat.txt'),
      log_filename: join(wd, 'script.log'),
      task_arguments: { include_leavers: false },
      connector_parameters: { host: 'h' },
    });
    expect(card.cwd).toBe(wd);
    // The working directory is the run's own and is removed afterwards.
    expect(existsSync(wd)).toBe(false);
  });

  it('loads upserts and marks "@removed" and _op: delete rows deleted at once', async () => {
    const script = lab.script(
      'rows.py',
      writes(`[{'id': '1', 'name': 'a'}, {'id': '2', 'name': 'b'}, {'id': '3', 'name': 'c'}]`),
    );
    const connector = scriptConnector('rows.py');
    expect((await lab.run(connector, scriptTask())).load?.created).toBe(3);
    lab.script(
      'rows.py',
      writes(`[{'id': '1', 'name': 'a'}, {'id': '2', '@removed': True}, {'id': '3', 'name': 'c', '_op': 'delete'}]`),
    );
    expect(script).toContain('rows.py');
    const run = await lab.run(connector, scriptTask());
    expect(run.reason).toBe('Succeeded');
    expect(run.load).toMatchObject({ deleted: 2 });
    const status = new Map((await lab.fx.cards('employee')).map((c) => [c.employee_id, c.status]));
    expect(status).toEqual(
      new Map([
        ['1', undefined],
        ['2', 'Deleted'],
        ['3', 'Deleted'],
      ]),
    );
  });

  it('reads JSON lines (one object per line)', async () => {
    lab.script(
      'lines.py',
      `
from common_subroutines_efecte_library import initialize_script
import json
a = initialize_script()
with open(a['expected_output_filename'], 'w') as f:
    for i in range(1, 2501):
        f.write(json.dumps({'id': str(i), 'name': 'n%d' % i}) + '\\n')
`,
    );
    const run = await lab.run(scriptConnector('lines.py'), scriptTask());
    expect(run.reason).toBe('Succeeded');
    expect(run.extract?.records).toBe(2500);
    expect((await lab.fx.cards('employee')).length).toBe(2500);
  });

  it('runs with an environment limited to what a script needs, its working directory as HOME', async () => {
    process.env.PROVISIO_TEST_LEAK = 'controller-only';
    lab.script(
      'env.py',
      `
from common_subroutines_efecte_library import initialize_script
import json, os
a = initialize_script()
with open(a['expected_output_filename'], 'w') as f:
    json.dump([{'id': '1', 'name': ','.join(sorted(os.environ)) + '|' + os.environ['HOME']}], f)
`,
    );
    try {
      expect((await lab.run(scriptConnector('env.py'), scriptTask())).reason).toBe('Succeeded');
    } finally {
      delete process.env.PROVISIO_TEST_LEAK;
    }
    const [names, home] = String((await lab.fx.cards('employee'))[0].name).split('|');
    // What Provisio sets; a launcher in between (pyenv's python3 shim here) may add its own (PYENV_*, PWD, SHLVL).
    const launcher = /^(_?PYENV\w*|PWD|SHLVL|LC_CTYPE|OLDPWD|_)$/;
    expect(names.split(',').filter((n) => !launcher.test(n))).toEqual([
      'HOME',
      'LANG',
      'PATH',
      'PROVISIO_SCRIPT_ARGS',
      'PROVISIO_SCRIPT_PARAMETERS_FILE',
      'PYTHONDONTWRITEBYTECODE',
      'PYTHONIOENCODING',
      'PYTHONPATH',
      'PYTHONUNBUFFERED',
      'TMPDIR',
    ]);
    expect(home).toMatch(/provisio-script-/);
  });
});

describe('a script that fails fails the run, and nothing is marked deleted', () => {
  async function loadThree(): Promise<void> {
    lab.script('rows.py', writes(`[{'id': '1', 'name': 'a'}, {'id': '2', 'name': 'b'}, {'id': '3', 'name': 'c'}]`));
    expect((await lab.run(scriptConnector('rows.py'), scriptTask())).load?.created).toBe(3);
  }
  const noneDeleted = async () => expect((await lab.fx.cards('employee')).filter((c) => c.status).length).toBe(0);

  it('no output file: a failure, never "0 records"', async () => {
    await loadThree();
    lab.script('rows.py', 'from common_subroutines_efecte_library import initialize_script\ninitialize_script()\n');
    const run = await lab.run(scriptConnector('rows.py'), scriptTask());
    expect(run.reason).toBe('ExtractFailed');
    expect(run.extract?.info).toMatch(/^the script ended without writing its output file \(expected_output_filename\)/);
    await noneDeleted();
  });

  it("invalid JSON: the output file's line and column", async () => {
    await loadThree();
    lab.script(
      'rows.py',
      `
from common_subroutines_efecte_library import initialize_script
a = initialize_script()
with open(a['expected_output_filename'], 'w') as f:
    f.write('[\\n  {"id": "1", "name": "a"},\\n  {"id": "2", "name": "b",}\\n]\\n')
`,
    );
    const run = await lab.run(scriptConnector('rows.py'), scriptTask());
    expect(run.reason).toBe('ExtractFailed');
    expect(run.extract?.info).toMatch(/^the script's output file is not valid: line 3, column 27: invalid JSON/);
    await noneDeleted();
  });

  it('a non-zero exit: the last lines of stderr', async () => {
    await loadThree();
    lab.script(
      'rows.py',
      `
import sys
for i in range(30):
    print('noise %d' % i, file=sys.stderr)
raise RuntimeError('cannot reach the HR export share')
`,
    );
    const run = await lab.run(scriptConnector('rows.py'), scriptTask());
    expect(run.reason).toBe('ExtractFailed');
    expect(run.extract?.info).toMatch(/^the script exited with code 1: /);
    expect(run.extract?.info).toContain('RuntimeError: cannot reach the HR export share');
    expect(run.extract?.info).not.toContain('noise 3;');
    await noneDeleted();
  });

  it("the error file's content is the failure message", async () => {
    lab.script(
      'rows.py',
      `
import sys
from common_subroutines_efecte_library import initialize_script, write_error
a = initialize_script()
write_error(a['error_filename'], 'expected exactly one HR export file, found 2')
sys.exit(2)
`,
    );
    const run = await lab.run(scriptConnector('rows.py'), scriptTask());
    expect(run.extract?.info).toMatch(/^the script exited with code 2: expected exactly one HR export file, found 2;/);
  });

  it('a script that hangs is stopped at spec.script.timeout', async () => {
    await loadThree();
    lab.script('rows.py', 'import time\ntime.sleep(600)\n');
    const run = await lab.run(scriptConnector('rows.py', { timeout: '700ms', heartbeatTimeout: '1m' }), scriptTask());
    expect(run.reason).toBe('TimedOut');
    expect(run.extract?.info).toMatch(/^the script was stopped: it ran longer than spec\.script\.timeout \(700ms\)/);
    await noneDeleted();
  });

  it("the task's own timeout (spec.timeout) stops the script too: TimedOut", async () => {
    lab.script('rows.py', 'import time\ntime.sleep(600)\n');
    const run = await lab.run(scriptConnector('rows.py'), scriptTask(undefined, {}, { timeout: '700ms' }));
    expect(run.reason).toBe('TimedOut');
    expect(run.extract?.info).toMatch(/^the run exceeded its timeout and was stopped/);
  });

  it('a script that stops touching its heartbeat file is stopped (SIGTERM ignored: SIGKILL after the grace period)', async () => {
    lab.script(
      'rows.py',
      `
import signal, time
from common_subroutines_efecte_library import initialize_script, write_heartbeat
signal.signal(signal.SIGTERM, signal.SIG_IGN)
a = initialize_script()
for i in range(4):
    write_heartbeat(a['heartbeat_filename'])
    time.sleep(0.1)
time.sleep(600)
`,
    );
    const run = await lab.run(scriptConnector('rows.py', { heartbeatTimeout: '400ms' }), scriptTask());
    expect(run.reason).toBe('ExtractFailed');
    expect(run.extract?.info).toMatch(
      /^the script was stopped: it did not touch its heartbeat file within spec\.script\.heartbeatTimeout \(400ms\)/,
    );
  });

  it('a script that keeps touching its heartbeat runs past heartbeatTimeout', async () => {
    // 2.5 s of work beating every 0.1 s, twice the timeout (which also covers the interpreter's start-up).
    lab.script(
      'rows.py',
      `
import json, time
from common_subroutines_efecte_library import initialize_script, write_heartbeat
a = initialize_script()
for i in range(25):
    write_heartbeat(a['heartbeat_filename'])
    time.sleep(0.1)
with open(a['expected_output_filename'], 'w') as f:
    json.dump([{'id': '1'}], f)
`,
    );
    const run = await lab.run(scriptConnector('rows.py', { heartbeatTimeout: '1200ms' }), scriptTask());
    expect(run.reason).toBe('Succeeded');
  });

  it("provisio stop (the run's signal) stops the script", async () => {
    const started = join(lab.evidence, 'started');
    lab.script('rows.py', `import time\nopen(${JSON.stringify(started)}, 'w').close()\ntime.sleep(600)\n`);
    const stop = new AbortController();
    const running = lab.run(scriptConnector('rows.py'), scriptTask(), stop.signal);
    await vi.waitFor(() => expect(existsSync(started)).toBe(true), { timeout: 5000, interval: 20 });
    stop.abort();
    const run = await running;
    expect(run.reason).toBe('Stopped');
    expect(run.extract?.status).toBe('Stopped');
  });

  it("a missing script or one outside the connector's folder fails the run naming it", async () => {
    let run = await lab.run(scriptConnector('missing.py'), scriptTask());
    expect(run.extract?.info).toMatch(/^script file "missing.py" \(relative to .*\) not found/);
    run = await lab.run(scriptConnector('../etc/passwd'), scriptTask());
    expect(run.extract?.info).toMatch(/not found|outside the folder/);
  });
});

describe('secrets', () => {
  it('reach the script through the helper, never argv; the log and failure messages are scrubbed', async () => {
    const secret = 'Hr-Impo7t-Pa55word!';
    lab.secrets.write('hr-params', { password: secret });
    lab.script(
      'secret.py',
      `
import json, sys
from common_subroutines_efecte_library import initialize_script, log_line
a = initialize_script()
p = a['connector_parameters']
log_line(a['log_filename'], 'logging in with password ' + p['password'])
with open(a['expected_output_filename'], 'w') as f:
    json.dump([{'id': '1', 'name': 'argv has the secret: %s; parameters: %s' % (p['password'] in ' '.join(sys.argv), sorted(p))}], f)
print('password=' + p['password'], file=sys.stderr)
sys.exit(3)
`,
    );
    const connector = scriptConnector('secret.py', {
      parameters: { host: 'https://hr.example.com' },
      parametersSecretRef: { name: 'hr-params' },
    });
    const run = await lab.run(connector, scriptTask());
    expect(run.extract?.info).toMatch(/^the script exited with code 3: password=\[redacted\]/);
    expect(JSON.stringify(run)).not.toContain(secret);
    expect(capture.text()).toContain('script: ');
    expect(capture.text()).toContain('logging in with password [redacted]');
    expect(capture.text()).not.toContain(secret);

    lab.script('secret.py', readFileSync(join(lab.dir, 'secret.py'), 'utf8').replace('sys.exit(3)', ''));
    expect((await lab.run(connector, scriptTask())).reason).toBe('Succeeded');
    expect((await lab.fx.cards('employee'))[0].name).toBe(
      "argv has the secret: False; parameters: ['host', 'password']",
    );
  });
});
