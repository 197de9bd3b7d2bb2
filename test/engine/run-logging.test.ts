/**
 * What a run logs for an admin (issue 16, part 6): progress at info every 10 s of the run's clock (injected, so
 * the test does not sleep), a failed run at error with the task, run id and reason in words, and debug request
 * lines with the full request target, credential values redacted.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runTask } from '../../src/engine/run-task.js';
import { captureLogger } from '../peers/log-capture.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { type EngineFixture, employees, employeeTask, engineFixture, restConnector } from './helpers.js';

let server: RestFixtureServer;
let fx: EngineFixture;

beforeAll(async () => {
  server = await RestFixtureServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  fx = engineFixture();
  server.route('GET', '/employees/:id/groups', (_req, p) => ({ json: [{ name: `Team ${p.id}` }] }));
});

const taskFor = (query: string) =>
  employeeTask({ source: { rest: { query, subqueries: ['/employees/{id}/groups'], errorMarker: 'errors' } } });
afterEach(async () => {
  server.reset();
  await fx.close();
});

describe('run logging', () => {
  it('logs progress at info every 10 s of the run, with records read and cards written', async () => {
    server.collection('/employees', employees(35), { paging: 'page' });
    const capture = captureLogger('info');
    // A clock that moves 4 s every time the run looks at it: progress is due every third look or so.
    let t = Date.parse('2026-12-03T10:00:00Z');
    const now = () => {
      t += 4000;
      return new Date(t);
    };
    const run = await runTask(
      { ...fx.deps, log: capture.log },
      {
        task: employeeTask(),
        connector: restConnector(server.url, 10),
        runId: 'run-progress',
        trigger: 'manual',
        plannedTime: new Date(t),
        signal: new AbortController().signal,
        now,
      },
    );
    expect(run.reason).toBe('Succeeded');
    const progress = capture.entries().filter((e) => String(e.msg).startsWith('run in progress'));
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(p).toMatchObject({ level: 30, task: 'iga/hr-employees', run: 'run-progress' });
      expect(p.msg).toBe(`run in progress: ${p.records} records read, ${p.written} cards written, 0 unchanged`);
    }
    // Counts only move forward, and the last line before the end has read something.
    const read = progress.map((p) => p.records as number);
    expect([...read].sort((a, b) => a - b)).toEqual(read);
    expect(read.at(-1)).toBeGreaterThan(0);

    // The default interval (10 s) with a clock that does not move: no progress line at all.
    const quiet = captureLogger('info');
    const fixed = new Date('2026-12-03T11:00:00Z');
    await runTask(
      { ...fx.deps, log: quiet.log },
      {
        task: employeeTask(),
        connector: restConnector(server.url, 10),
        runId: 'run-quiet',
        trigger: 'manual',
        plannedTime: fixed,
        signal: new AbortController().signal,
        now: () => fixed,
      },
    );
    expect(quiet.entries().filter((e) => String(e.msg).startsWith('run in progress'))).toEqual([]);
  });

  it('logs a failed run at error with the task, the run id and the reason in words', async () => {
    server.route('GET', '/employees', () => ({ json: { errors: 'HR database is down', resultset: [] } }));
    const capture = captureLogger('info');
    const run = await runTask(
      { ...fx.deps, log: capture.log },
      {
        task: taskFor('/employees'),
        connector: restConnector(server.url),
        runId: 'run-broken',
        trigger: 'manual',
        plannedTime: new Date(),
        signal: new AbortController().signal,
      },
    );
    expect(run.reason).toBe('ExtractFailed');
    const errors = capture.entries().filter((e) => e.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      task: 'iga/hr-employees',
      run: 'run-broken',
      reason: 'ExtractFailed',
      msg: `run run-broken of task iga/hr-employees failed (ExtractFailed): ${run.extract?.info}`,
    });
    expect(run.extract?.info).toMatch(/HR database is down/);
  });

  it('logs each request at debug with its full target and host, credential values redacted', async () => {
    server.collection('/employees', employees(12), { paging: 'page' });
    const capture = captureLogger('debug');
    await runTask(
      { ...fx.deps, log: capture.log },
      {
        task: taskFor('/employees?active=true&api_key=s3cr3t'),
        connector: restConnector(server.url, 10),
        runId: 'run-debug',
        trigger: 'manual',
        plannedTime: new Date(),
        signal: new AbortController().signal,
      },
    );
    const calls = capture
      .entries()
      .filter((e) => e.msg === 'REST call' && String(e.request).startsWith('GET /employees?'));
    const host = new URL(server.url).host;
    expect(calls.map((c) => [c.request, c.host, c.status])).toEqual([
      ['GET /employees?active=true&api_key=[redacted]&page=1&size=10', host, 200],
      ['GET /employees?active=true&api_key=[redacted]&page=2&size=10', host, 200],
    ]);
    expect(capture.text()).not.toContain('s3cr3t');
  });
});
