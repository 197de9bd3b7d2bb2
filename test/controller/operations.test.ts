/**
 * Operations on a task (DESIGN §1): the requestedAt and clearCacheRequestedAt annotations, suspend/resume,
 * recovery of a run cut off by a crash, and the length of the run history.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ANNOTATIONS, type TaskStatus } from '../../src/model/resources.js';
import { nextRunTime } from '../../src/scheduler/schedule.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { type Harness, startController } from './harness.js';
import { connectorYaml, employeeRows, type GitRepo, gitRepo, taskYaml, tempDir, YEARLY } from './resources.js';

const TASK = 'iga/hr-employees';

let api: RestFixtureServer;
let repo: GitRepo;
let state: { dir: string; cleanup(): void };
let h: Harness | undefined;

const employeeCalls = () => api.calls('/employees').length;

/** Lets anything a change might have started get going, so that "no run" is a real observation. */
const quiet = () => new Promise((r) => setTimeout(r, 300));

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => {
  api.requests.length = 0;
  repo = gitRepo();
  state = tempDir();
  repo.write('hr-api.yaml', connectorYaml({ baseUrl: api.url }));
  repo.write('hr-employees.yaml', taskYaml());
  repo.commit();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  repo.cleanup();
  state.cleanup();
});

describe('the requestedAt annotation', () => {
  it('runs the task once per value, echoes it to lastHandledReconcileAt, and survives restarts', async () => {
    h = await startController(repo.dir, state.dir);
    await quiet();
    expect(employeeCalls()).toBe(0);
    expect(h.task().status.lastHandledReconcileAt).toBeUndefined();

    const first = '2026-11-23T10:00:00Z';
    repo.write('hr-employees.yaml', taskYaml({ annotations: { [ANNOTATIONS.requestedAt]: first } }));
    repo.commit('run now');
    await h.reload();
    let rec = await h.runs(1);
    expect(rec.status.lastHandledReconcileAt).toBe(first);
    expect(rec.status.lastRun?.trigger).toBe('manual');
    expect(rec.generation).toBe(1);

    // Seen again (another commit re-applies every resource), and by a new controller: no second run.
    repo.write('other.yaml', '# not a resource\n');
    repo.commit('unrelated');
    await h.reload();
    await h.close();
    h = await startController(repo.dir, state.dir);
    await quiet();
    expect(employeeCalls()).toBe(1);
    expect(h.task().status.history).toHaveLength(1);
    expect(h.task().status.lastHandledReconcileAt).toBe(first);

    const second = '2026-11-23T11:00:00Z';
    repo.write('hr-employees.yaml', taskYaml({ annotations: { [ANNOTATIONS.requestedAt]: second } }));
    repo.commit('run again');
    await h.reload();
    rec = await h.runs(2);
    expect(rec.status.lastHandledReconcileAt).toBe(second);
    await quiet();
    expect(employeeCalls()).toBe(2);
    expect(h.task().status.history).toHaveLength(2);
  });
});

describe('the clearCacheRequestedAt annotation', () => {
  it('makes the next run load every record again', async () => {
    h = await startController(repo.dir, state.dir);
    await h.controller.runOnce();
    await h.controller.runOnce();
    const before = h.task().status;
    expect(before.lastRun?.load).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    const clearedBefore = before.cache?.clearedAt;
    expect(before.cache?.entries).toBe(3);

    repo.write('hr-employees.yaml', taskYaml({ annotations: { [ANNOTATIONS.clearCacheRequestedAt]: 'now-1' } }));
    repo.commit('clear the cache');
    await h.reload();
    expect(h.cache.meta(TASK).clearRequested).toBe(true);
    await quiet();
    expect(employeeCalls()).toBe(2); // a clear request runs nothing by itself

    await h.controller.runOnce();
    const after = h.task().status;
    expect(after.lastRun?.load).toMatchObject({ status: 'Succeeded', created: 0, updated: 3, unchanged: 0 });
    expect(after.cache?.clearedAt).not.toBe(clearedBefore);
    expect(Date.parse(after.cache?.clearedAt ?? '')).toBeGreaterThan(Date.parse(clearedBefore ?? ''));
    expect(h.cache.meta(TASK).clearRequested).toBe(false);

    // The same value again asks for nothing.
    await h.close();
    h = await startController(repo.dir, state.dir);
    await h.controller.runOnce();
    expect(h.task().status.lastRun?.load).toMatchObject({ updated: 0, unchanged: 3 });
  });
});

describe('the clearCursorRequestedAt annotation (clear-cache --cursor)', () => {
  it('asks for a clear that also resets the cursors, once per value', async () => {
    h = await startController(repo.dir, state.dir);
    await h.controller.runOnce();
    repo.write('hr-employees.yaml', taskYaml({ annotations: { [ANNOTATIONS.clearCursorRequestedAt]: 'now-1' } }));
    repo.commit('reset the cursors');
    await h.reload();
    expect(h.cache.meta(TASK)).toMatchObject({ clearRequested: true, cursorResetRequested: true });
    expect(h.task().status.lastHandledClearCursorAt).toBe('now-1');
    await h.controller.runOnce();
    expect(h.cache.meta(TASK)).toMatchObject({ clearRequested: false, cursorResetRequested: false, cursors: {} });
  });
});

describe('suspend and resume', () => {
  it('suspends scheduling: phase Suspended, no next run, triggers refused; resume brings the schedule back', async () => {
    h = await startController(repo.dir, state.dir);
    const next = nextRunTime({ cron: YEARLY }, new Date(), TASK)!.toISOString();
    h.controller.setSuspended(TASK, true);
    let s: TaskStatus = h.task().status;
    expect(s.phase).toBe('Suspended');
    expect(s.nextRunTime).toBeUndefined();
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Ready', 'True', 'Suspended', 'scheduling is suspended'],
    ]);
    expect(h.controller.trigger(TASK)).toBe('suspended');
    expect(await h.controller.runOnce()).toEqual({ ran: [], failed: [] });

    h.controller.setSuspended(TASK, false);
    s = h.task().status;
    expect(s.phase).toBe('Idle');
    expect(s.nextRunTime).toBe(next);
    expect(s.conditions?.[0]).toMatchObject({ reason: 'Scheduled', status: 'True' });
    expect(h.controller.trigger(TASK)).toBe('queued');
    await h.runs(1);
  });
});

describe('a run cut off by a crash', () => {
  it('is recorded as Failed "interrupted" when the controller starts again', async () => {
    h = await startController(repo.dir, state.dir);
    await h.controller.runOnce();
    const done = h.task().status.lastRun!;
    await h.close();

    // What a kill -9 in the middle of a run leaves on disk.
    const rec = h.statuses.read<TaskStatus>('Task', TASK)!;
    const cut = {
      id: '20261123100000000-abcdef',
      trigger: 'schedule' as const,
      plannedTime: '2026-11-23T10:00:00.000Z',
      startTime: '2026-11-23T10:00:00.100Z',
      extract: { status: 'Running' as const, records: 7, apiCalls: 1 },
      load: { status: 'Running' as const, startTime: '2026-11-23T10:00:01.000Z', created: 7 },
    };
    rec.status.lastRun = cut;
    rec.status.phase = 'Running';
    h.statuses.write('Task', TASK, rec);

    h = await startController(repo.dir, state.dir);
    const s = h.task().status;
    const note = 'interrupted: the controller stopped during this run; it runs again at its next schedule';
    expect(s.lastRun).toMatchObject({
      id: cut.id,
      extract: { status: 'Failed', records: 7, info: `${note} (read 7 records)` },
      load: { status: 'Failed', created: 7, info: `${note}; deletion marking skipped` },
    });
    expect(s.history?.map((r) => r.id)).toEqual([cut.id, done.id]);
    expect(s.history?.[0]).toEqual(s.lastRun);
    expect(s.phase).toBe('Idle');
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Ready', 'False', 'ExtractFailed', `run ${cut.id}: ${note} (read 7 records)`],
    ]);
    expect(h.connector().status.health).toBe('Failed');
  });
});

describe('run history', () => {
  it('keeps the last 10 runs, newest first', async () => {
    h = await startController(repo.dir, state.dir);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      await h.controller.runOnce();
      ids.unshift(h.task().status.lastRun!.id!);
    }
    const s = h.task().status;
    expect(new Set(ids).size).toBe(12);
    expect(s.history?.map((r) => r.id)).toEqual(ids.slice(0, 10));
    expect(s.history?.[0]).toEqual(s.lastRun);
  });
});
