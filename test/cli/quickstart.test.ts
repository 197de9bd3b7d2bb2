/**
 * `npm run quickstart`, then every command it printed, copied as a user would: each runs as a child process from
 * the repository root (no shell) and must exit 0 with the output the quickstart promised.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../server/child.js';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      env: { ...process.env, PROVISIO_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${cmd} ${args.join(' ')} did not finish in time\n${stdout}\n${stderr}`));
    }, 90_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const state = mkdtempSync(join(tmpdir(), 'provisio-quickstart-'));
let sampleApi: ChildProcess | undefined;
afterAll(() => {
  sampleApi?.kill();
  rmSync(state, { recursive: true, force: true });
});

const cells = (line: string) => line.split(/ {3,}/);

describe('the quickstart', () => {
  it('prints follow-up commands that work when copied', { timeout: 240_000 }, async () => {
    const qs = await run(process.execPath, ['scripts/quickstart.mjs', '--state-dir', state]);
    expect(qs.code, qs.stderr).toBe(0);
    const printed = qs.stdout
      .split('\n')
      .filter((l) => l.startsWith('$ '))
      .map((l) => l.slice(2));
    expect(printed).toEqual([
      `npm run provisio -- run --dir examples/quickstart --state-dir ${state} --once`,
      `npm run provisio -- cards employee --state-dir ${state} --limit 10`,
      `npm run provisio -- get tasks -n quickstart --dir examples/quickstart --state-dir ${state}`,
    ]);

    // The first command needs the sample API again (the quickstart stopped its own).
    sampleApi = spawn(process.execPath, ['examples/quickstart/sample-api.mjs'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((ready) => sampleApi?.stdout?.once('data', ready));

    const results: Result[] = [];
    for (const line of printed) {
      const [cmd, ...args] = line.split(' ');
      const r = await run(cmd, args);
      expect(r.code, `${line}\n${r.stdout}\n${r.stderr}`).toBe(0);
      results.push(r);
    }
    // A second run finds every record in the task cache: nothing to load.
    const runRow = results[0].stdout.split('\n').find((l) => l.startsWith('quickstart/hr-employees'));
    expect(cells(runRow ?? '')).toEqual([
      'quickstart/hr-employees',
      'Succeeded',
      '120',
      'Succeeded',
      '0',
      '0',
      '120',
      '0',
      '0',
    ]);

    const cardLines = results[1].stdout.split('\n').filter((l) => /^(EMPLOYEE_ID|E\d{4}) /.test(l));
    expect(cells(cardLines[0]).slice(0, 3)).toEqual(['EMPLOYEE_ID', 'FIRST_NAME', 'LAST_NAME']);
    expect(cardLines.slice(1).map((l) => cells(l)[0])).toEqual(
      Array.from({ length: 10 }, (_, i) => `E${String(i + 1).padStart(4, '0')}`),
    );

    const header = results[2].stdout.split('\n').find((l) => l.startsWith('NAMESPACE'));
    const row = results[2].stdout.split('\n').find((l) => l.startsWith('quickstart '));
    const cols = cells(header ?? '');
    const values = cells(row ?? '');
    expect(values[cols.indexOf('NAME')]).toBe('hr-employees');
    expect(values[cols.indexOf('READY')]).toBe('True');
    expect(values[cols.indexOf('EXTRACT')]).toBe('Succeeded');
    expect(values[cols.indexOf('LOAD')]).toBe('Succeeded');
    expect(values[cols.indexOf('LAST RUN')]).toMatch(/^\d+s ago$/);
  });

  it('with --target m42 loads into the simulated home solution and reads the cards back through its API', {
    timeout: 240_000,
  }, async () => {
    // The sample API of the first case holds port 4010: the quickstart starts its own.
    if (sampleApi && sampleApi.exitCode === null) {
      const gone = new Promise((done) => sampleApi?.once('exit', done));
      sampleApi.kill();
      await gone;
    }
    const m42State = mkdtempSync(join(tmpdir(), 'provisio-quickstart-m42-'));
    try {
      const qs = await run(process.execPath, ['scripts/quickstart.mjs', '--target', 'm42', '--state-dir', m42State]);
      expect(qs.code, qs.stderr).toBe(0);
      const printed = qs.stdout.split('\n').filter((l) => l.startsWith('$ '));
      expect(printed[0]).toMatch(
        /--target m42 --target-url http:\/\/127\.0\.0\.1:\d+\/rest-api\/itsm\/v1 --secrets-dir /,
      );
      expect(printed[1]).toContain('cards employee --target m42');
      const runRow = qs.stdout.split('\n').find((l) => l.startsWith('quickstart/hr-employees'));
      expect(cells(runRow ?? '').slice(0, 5)).toEqual([
        'quickstart/hr-employees',
        'Succeeded',
        '120',
        'Succeeded',
        '120',
      ]);
      const cardLines = qs.stdout.split('\n').filter((l) => /^\d+ +E\d{4} /.test(l));
      expect(cardLines).toHaveLength(10);
      expect(qs.stdout).toContain('DATACARDID');
      // The WebAPI password is in the secrets dir only, never printed.
      expect(qs.stdout).not.toContain('quickstart-sample-only');
    } finally {
      rmSync(m42State, { recursive: true, force: true });
    }
  });
});
