/**
 * Event tasks of the script connector (the "Execute Custom Backend Task" node) with real python3: two lines
 * on stdin, Completed with stdout as the response, Exception with the script's error message, the task's
 * event.timeout stopping the script and its children.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scriptConnector as scriptType } from '../../../src/connectors/script/index.js';
import type { ActionContext, ActionResult, InvokeData } from '../../../src/connectors/types.js';
import type { Connector, Task } from '../../../src/model/resources.js';
import { captureLogger } from '../../peers/log-capture.js';
import { fixture, processGone, type ScriptLab, scriptConnector, scriptLab } from './helpers.js';

let lab: ScriptLab;
let capture: ReturnType<typeof captureLogger>;
beforeEach(async () => {
  capture = captureLogger('debug');
  lab = await scriptLab(capture.log, { graceMs: 300 }, { 'hr-params': { password: 'Ev3nt-Pa55word' } });
});
afterEach(() => lab.close());

function eventTask(timeout = '10s'): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'update-employee', namespace: 'iga' },
    spec: {
      connectorRef: { name: 'custom' },
      usage: 'event',
      mappingsType: 'generic',
      event: { timeout, maxConcurrency: 2 },
      mappings: {
        generic: {
          template: 'person',
          attributes: [
            { external: 'employeeNumber', local: 'employee_id' },
            { external: 'email', local: 'email' },
            { external: 'phone', local: 'mobile_phone' },
          ],
        },
      },
    },
  };
}

function invoke(
  connector: Connector,
  data: InvokeData,
  options: { task?: Task; activity?: string; signal?: AbortSignal } = {},
): Promise<ActionResult> {
  const ctx: ActionContext = {
    connector,
    task: options.task ?? eventTask(),
    namespace: 'iga',
    secrets: lab.secrets.resolver,
    signal: options.signal ?? new AbortController().signal,
    log: capture.log,
    connectorFile: lab.connectorFile,
  };
  return scriptType.actions![options.activity ?? 'runScript'](ctx, {}, data);
}

const withSecret = (path: string) =>
  scriptConnector(path, { parameters: { host: 'https://hr.example.com' }, parametersSecretRef: { name: 'hr-params' } });

describe("the seeds' example event script, unchanged", () => {
  it('reads the two lines and completes', async () => {
    lab.script('event.py', fixture('seed_event.py'));
    const result = await invoke(withSecret('event.py'), { employee_id: 'E1', email: 'a@x.com' });
    expect(result).toEqual({ state: 'Completed', response: null, exception: null });
  });

  it('is also the executeCustomBackendTask activity', async () => {
    lab.script('event.py', fixture('seed_event.py'));
    const result = await invoke(withSecret('event.py'), {}, { activity: 'executeCustomBackendTask' });
    expect(result.state).toBe('Completed');
  });
});

describe('stdin, response and exceptions', () => {
  it('line 1: the parameters with the secret keys; line 2: the mapped attributes by external name', async () => {
    lab.script(
      'echo.py',
      `
import json, sys
lines = sys.stdin.read().split('\\n')
params, mappings = json.loads(lines[0]), json.loads(lines[1])
print(json.dumps({'lines': len([l for l in lines if l]), 'keys': sorted(params), 'secret_ok': params['password'] == 'Ev3nt-Pa55word', 'mappings': mappings}))
`,
    );
    const result = await invoke(withSecret('echo.py'), { employee_id: 'E7', email: 'e7@x.com', unmapped: 'x' });
    expect(result).toEqual({
      state: 'Completed',
      response: {
        lines: 2,
        keys: ['host', 'password'],
        secret_ok: true,
        mappings: { employeeNumber: 'E7', email: 'e7@x.com' },
      },
      exception: null,
    });
  });

  it('stdout that is not JSON is the response as text', async () => {
    lab.script('text.py', "print('updated 1 employee')\n");
    expect((await invoke(withSecret('text.py'), {})).response).toBe('updated 1 employee');
  });

  it("an exception: the message of the traceback's last line, chained exceptions included", async () => {
    lab.script('event.py', fixture('seed_event.py'));
    lab.script(
      'bad.py',
      "import sys\nsys.stdin.read()\nraise ValueError('employeeNumber is empty: nothing to update')\n",
    );
    expect(await invoke(withSecret('bad.py'), {})).toEqual({
      state: 'Exception',
      response: null,
      exception: 'employeeNumber is empty: nothing to update',
    });
    // The seed script with a broken second line: "raise ... from e" prints both; the outer one is the message.
    lab.script(
      'wrap.py',
      fixture('seed_event.py').replace('lines = sys.stdin.read().splitlines()', "lines = ['{}', 'not json']"),
    );
    expect((await invoke(withSecret('wrap.py'), {})).exception).toBe('Task mappings is not a valid JSON string.');
  });

  it('a non-zero exit without a traceback: the last stderr line; stdout stays the response', async () => {
    lab.script(
      'exit.py',
      "import sys\nprint('partial')\nprint('first', file=sys.stderr)\nprint('HR import refused: 403', file=sys.stderr)\nsys.exit(4)\n",
    );
    expect(await invoke(withSecret('exit.py'), {})).toEqual({
      state: 'Exception',
      response: 'partial',
      exception: 'HR import refused: 403',
    });
    lab.script('quiet.py', 'import sys\nsys.exit(5)\n');
    expect((await invoke(withSecret('quiet.py'), {})).exception).toBe('the script exited with code 5');
  });

  it('secret values never come back in the response or the exception', async () => {
    lab.script(
      'leak.py',
      "import json, sys\np = json.loads(sys.stdin.readline())\nprint('pw ' + p['password'])\nraise RuntimeError('login failed for password ' + p['password'])\n",
    );
    const result = await invoke(withSecret('leak.py'), {});
    expect(result).toEqual({
      state: 'Exception',
      response: 'pw [redacted]',
      exception: 'login failed for password [redacted]',
    });
    expect(capture.text()).not.toContain('Ev3nt-Pa55word');
  });

  it('event.timeout stops the script and its children', async () => {
    const pids = join(lab.evidence, 'pids.json');
    lab.script(
      'slow.py',
      `import json, subprocess, time\nc = subprocess.Popen(['sleep', '600'])\nopen(${JSON.stringify(pids)}, 'w').write(json.dumps([c.pid]))\ntime.sleep(600)\n`,
    );
    const result = await invoke(withSecret('slow.py'), {}, { task: eventTask('2500ms') });
    expect(result).toEqual({
      state: 'Exception',
      response: null,
      exception: 'the script was stopped: it ran longer than spec.event.timeout (2500ms)',
    });
    const [child] = JSON.parse(readFileSync(pids, 'utf8')) as number[];
    await vi.waitFor(() => expect(processGone(child)).toBe(true), { timeout: 3000, interval: 25 });
  });

  it('a caller that goes away stops the script', async () => {
    const started = join(lab.evidence, 'started');
    lab.script('wait.py', `import time\nopen(${JSON.stringify(started)}, 'w').close()\ntime.sleep(600)\n`);
    const gone = new AbortController();
    const running = invoke(withSecret('wait.py'), {}, { signal: gone.signal });
    await vi.waitFor(() => expect(existsSync(started)).toBe(true), { timeout: 10_000, interval: 20 });
    gone.abort();
    expect(await running).toEqual({ state: 'Exception', response: null, exception: 'the call was cancelled' });
  });

  it('a script that cannot be found is an Exception naming it', async () => {
    expect((await invoke(withSecret('nope.py'), {})).exception).toMatch(
      /^script file "nope.py" \(relative to .*\) not found$/,
    );
  });
});
