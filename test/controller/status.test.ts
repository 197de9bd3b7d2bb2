/**
 * Task and Connector status as the controller records it (DESIGN §1): kstatus conditions, run records, phase,
 * next run, connector health; and why a task is not scheduled. A real REST peer, real state on disk.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Condition, Task } from '../../src/model/resources.js';
import { nextRunTime } from '../../src/scheduler/schedule.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli } from '../server/child.js';
import { type Harness, startController } from './harness.js';
import {
  connectorYaml,
  employeeRows,
  eventTaskYaml,
  type GitRepo,
  gitRepo,
  taskYaml,
  tempDir,
  YEARLY,
} from './resources.js';

const TASK = 'iga/hr-employees';
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const INFO_3 = 'created 3, updated 0, unchanged 0, marked deleted 0, not loaded 0';

let api: RestFixtureServer;
let repo: GitRepo;
let state: { dir: string; cleanup(): void };
let h: Harness | undefined;

/** The conditions without their timestamps, which only need to be valid times. */
function conditions(list: Condition[] | undefined) {
  for (const c of list ?? []) expect(Number.isNaN(Date.parse(c.lastTransitionTime))).toBe(false);
  return (list ?? []).map(({ lastTransitionTime: _t, ...c }) => c);
}

const BROKEN =
  'response from GET /broken has an error at "errors" (errorMarker): HR database is down; read 0 records in 1 API call';

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
  api.route('GET', '/broken', () => ({ json: { errors: 'HR database is down', resultset: [] } }));
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => {
  api.requests.length = 0;
  repo = gitRepo();
  state = tempDir();
  repo.write('hr-api.yaml', connectorYaml({ baseUrl: api.url }));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  repo.cleanup();
  state.cleanup();
});

describe('a task that ran', () => {
  it('is Ready with reason Succeeded, Idle, with its run in lastRun and history and the next run time', async () => {
    repo.write('hr-employees.yaml', taskYaml());
    repo.write('hr-update.yaml', eventTaskYaml());
    repo.commit();
    h = await startController(repo.dir, state.dir);
    const expectedNext = nextRunTime({ cron: YEARLY }, new Date(), TASK)!.toISOString();

    // Before its first run.
    let rec = h.task();
    expect(rec.status.phase).toBe('Idle');
    expect(rec.status.nextRunTime).toBe(expectedNext);
    expect(conditions(rec.status.conditions)).toEqual([
      {
        type: 'Ready',
        status: 'True',
        observedGeneration: 1,
        reason: 'Scheduled',
        message: `waiting for the first run at ${expectedNext}`,
      },
    ]);
    expect(h.connector().status.health).toBe('Pending');

    expect(await h.controller.runOnce()).toEqual({ ran: [TASK], failed: [] });
    rec = h.task();
    const run = rec.status.lastRun!;
    expect(rec.generation).toBe(1);
    expect(rec.status.observedGeneration).toBe(1);
    expect(conditions(rec.status.conditions)).toEqual([
      {
        type: 'Ready',
        status: 'True',
        observedGeneration: 1,
        reason: 'Succeeded',
        message: `run ${run.id}: ${INFO_3}`,
      },
    ]);
    expect(rec.status.history).toHaveLength(1);
    expect(rec.status.history?.[0]).toEqual(run);
    expect(run).toMatchObject({
      trigger: 'manual',
      extract: { status: 'Succeeded', records: 3, info: 'read 3 records in 1 API call' },
      load: { status: 'Succeeded', created: 3, updated: 0, unchanged: 0, deleted: 0, failed: 0, info: INFO_3 },
    });
    expect(run.id).toMatch(/^\d{17}-[0-9a-f]{6}$/);
    expect(rec.status.phase).toBe('Idle');
    expect(rec.status.nextRunTime).toBe(expectedNext);
    expect(rec.status.cache?.entries).toBe(3);
    expect((await h.cards()).map((c) => c.employee_id).sort()).toEqual(['E1', 'E2', 'E3']);

    const conn = h.connector();
    expect(conn.status).toMatchObject({ observedGeneration: 1, health: 'Healthy', scheduledTasks: 1, eventTasks: 1 });
    expect(conditions(conn.status.conditions)).toEqual([
      {
        type: 'Ready',
        status: 'True',
        observedGeneration: 1,
        reason: 'Succeeded',
        message: '1 scheduled task succeeded its last run; 1 event task',
      },
    ]);

    const event = h.task('iga/hr-update');
    expect(event.status.endpoint).toBe('/api/v1/namespaces/iga/tasks/hr-update/invoke');
    expect(conditions(event.status.conditions)).toEqual([
      {
        type: 'Ready',
        status: 'True',
        observedGeneration: 1,
        reason: 'EventTaskReady',
        message: 'invocable at /api/v1/namespaces/iga/tasks/hr-update/invoke',
      },
    ]);
  });
});

describe('a task that cannot be scheduled', () => {
  it('whose connector is missing: ConnectorNotReady, Stalled, not scheduled', async () => {
    repo.write('hr-employees.yaml', taskYaml({ connector: 'hr-ap' }));
    repo.commit();
    h = await startController(repo.dir, state.dir);
    const message = 'Connector "hr-ap" not found in namespace "iga" (did you mean "hr-api"?)';
    expect(conditions(h.task().status.conditions)).toEqual([
      { type: 'Ready', status: 'False', observedGeneration: 1, reason: 'ConnectorNotReady', message },
      { type: 'Stalled', status: 'True', observedGeneration: 1, reason: 'ConnectorNotReady', message },
    ]);
    expect(h.task().status.nextRunTime).toBeUndefined();
    expect(h.controller.scheduler.state(TASK)).toBeUndefined();
    expect(h.controller.trigger(TASK)).toBe('unknown');
    expect(await h.controller.runOnce()).toEqual({ ran: [], failed: [] });
    expect(api.calls('/employees')).toEqual([]);
  });

  it('whose connector was deleted after it ran: ConnectorNotReady, and it stops being scheduled', async () => {
    repo.write('hr-employees.yaml', taskYaml());
    repo.commit();
    h = await startController(repo.dir, state.dir);
    await h.controller.runOnce();
    await h.watch();
    repo.remove('hr-api.yaml');
    repo.commit('drop the connector');
    await h.applied('the connector deletion', () => h?.store.get('Connector', 'iga/hr-api') === undefined);
    const message = 'Connector "hr-api" not found in namespace "iga"';
    expect(conditions(h.task().status.conditions)).toEqual([
      { type: 'Ready', status: 'False', observedGeneration: 1, reason: 'ConnectorNotReady', message },
      { type: 'Stalled', status: 'True', observedGeneration: 1, reason: 'ConnectorNotReady', message },
    ]);
    expect(h.controller.scheduler.state(TASK)).toBeUndefined();
    expect(h.task().status.nextRunTime).toBeUndefined();
  });

  it('whose connector is invalid: ConnectorNotReady with the connector finding', async () => {
    repo.write('hr-api.yaml', connectorYaml({ baseUrl: 'hr.example.com/api' }));
    repo.write('hr-employees.yaml', taskYaml());
    repo.commit();
    h = await startController(repo.dir, state.dir);
    const message = 'Connector "hr-api" is invalid: must be an absolute http:// or https:// URL';
    expect(conditions(h.task().status.conditions)).toEqual([
      { type: 'Ready', status: 'False', observedGeneration: 1, reason: 'ConnectorNotReady', message },
      { type: 'Stalled', status: 'True', observedGeneration: 1, reason: 'ConnectorNotReady', message },
    ]);
    expect(h.controller.scheduler.state(TASK)).toBeUndefined();
    const finding = `${repo.dir}/hr-api.yaml:10:14  spec.rest.baseUrl  must be an absolute http:// or https:// URL`;
    expect(conditions(h.connector().status.conditions)).toEqual([
      { type: 'Ready', status: 'False', observedGeneration: 1, reason: 'SchemaInvalid', message: finding },
      { type: 'Stalled', status: 'True', observedGeneration: 1, reason: 'SchemaInvalid', message: finding },
    ]);
  });

  it('that is invalid: SchemaInvalid with the finding, Stalled, not scheduled', async () => {
    repo.write('hr-employees.yaml', taskYaml({ maxFraction: 1.5 }));
    repo.commit();
    h = await startController(repo.dir, state.dir);
    const finding = `${repo.dir}/hr-employees.yaml:24:27  spec.deletion.maxFraction  must be <= 1, not 1.5`;
    expect(conditions(h.task().status.conditions)).toEqual([
      { type: 'Ready', status: 'False', observedGeneration: 1, reason: 'SchemaInvalid', message: `${finding}.` },
      { type: 'Stalled', status: 'True', observedGeneration: 1, reason: 'SchemaInvalid', message: finding },
    ]);
    expect(h.controller.scheduler.state(TASK)).toBeUndefined();
    expect(h.connector().status).toMatchObject({ health: 'Pending', scheduledTasks: 1, eventTasks: 0 });
  });

  it('edited into an invalid version after a valid one: SchemaInvalid, and the last valid version keeps running', async () => {
    repo.write('hr-employees.yaml', taskYaml());
    repo.commit();
    const first = repo.head().slice(0, 7);
    h = await startController(repo.dir, state.dir);
    repo.write('hr-employees.yaml', taskYaml({ maxFraction: 1.5 }));
    repo.commit('typo');
    await h.reload();
    const finding = `${repo.dir}/hr-employees.yaml:24:27  spec.deletion.maxFraction  must be <= 1, not 1.5`;
    // kstatus: observedGeneration is the generation that runs; the conditions are about the latest one.
    expect(h.task().status).toMatchObject({
      observedGeneration: 1,
      appliedRevision: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(conditions(h.task().status.conditions)).toEqual([
      {
        type: 'Ready',
        status: 'False',
        observedGeneration: 2,
        reason: 'SchemaInvalid',
        message: `${finding}. The last valid version keeps running (generation 1, revision ${first}).`,
      },
      { type: 'Stalled', status: 'True', observedGeneration: 2, reason: 'SchemaInvalid', message: finding },
    ]);
    expect(await h.controller.runOnce()).toEqual({ ran: [TASK], failed: [] });
    expect(h.task().status.lastRun?.load?.created).toBe(3);

    // After a restart the last valid version still runs: it is kept in the state directory.
    await h.close();
    h = await startController(repo.dir, state.dir);
    expect((h.store.get('Task', TASK)?.effective as Task | undefined)?.spec.deletion?.maxFraction).not.toBe(1.5);
    expect(h.task().status.observedGeneration).toBe(1);
    expect(h.task().status.conditions?.[0].message).toMatch(
      new RegExp(
        `^${escapeRegExp(finding)}\\. The last valid version keeps running \\(generation 1, revision ${first}, kept in the state directory since \\d{4}-`,
      ),
    );
    expect(await h.controller.runOnce()).toEqual({ ran: [TASK], failed: [] });
  });

  it('a file that stops parsing keeps its resources, across a restart too', async () => {
    repo.write('hr-employees.yaml', taskYaml());
    repo.commit();
    h = await startController(repo.dir, state.dir);
    repo.write('hr-employees.yaml', `${taskYaml()}\n  bad: [unclosed\n`);
    repo.commit('broken yaml');
    await h.reload();
    expect(h.store.get('Task', TASK)?.effective).toBeDefined();
    await h.close();
    h = await startController(repo.dir, state.dir);
    // Still listed and still running, with the parse error in its status.
    const stored = h.store.get('Task', TASK);
    expect(stored?.effective?.metadata.name).toBe('hr-employees');
    expect(stored?.errors[0]?.file).toBe(`${repo.dir}/hr-employees.yaml`);
    expect(h.task().status.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'SchemaInvalid' });
    expect(h.task().status.conditions?.[0].message).toContain('The last valid version keeps running (generation 1');
    expect(await h.controller.runOnce()).toEqual({ ran: [TASK], failed: [] });
    // And `provisio get tasks` still lists it.
    const got = await cli(['get', 'tasks', '--dir', repo.dir, '--state-dir', state.dir, '-n', 'iga', '-o', 'json']);
    expect(got.code).toBe(0);
    expect(
      (JSON.parse(got.stdout) as { items: Array<{ metadata: { name: string } }> }).items.map((i) => i.metadata.name),
    ).toEqual(['hr-employees']);
  });
});

describe('a failing run', () => {
  it('makes the task Ready=False ExtractFailed and its connector Failed', async () => {
    repo.write('hr-broken.yaml', taskYaml({ name: 'hr-broken', query: '/broken' }));
    repo.commit();
    h = await startController(repo.dir, state.dir);
    expect(await h.controller.runOnce()).toEqual({ ran: ['iga/hr-broken'], failed: ['iga/hr-broken'] });
    const rec = h.task('iga/hr-broken');
    const run = rec.status.lastRun!;
    expect(run.extract).toMatchObject({ status: 'Failed', records: 0, info: BROKEN });
    expect(run.load).toMatchObject({ status: 'Skipped' });
    expect(conditions(rec.status.conditions)).toEqual([
      {
        type: 'Ready',
        status: 'False',
        observedGeneration: 1,
        reason: 'ExtractFailed',
        message: `run ${run.id}: ${BROKEN}`,
      },
    ]);
    expect(rec.status.phase).toBe('Idle');
    expect(h.connector().status).toMatchObject({ health: 'Failed', scheduledTasks: 1 });
    expect(conditions(h.connector().status.conditions)).toEqual([
      {
        type: 'Ready',
        status: 'False',
        observedGeneration: 1,
        reason: 'TasksFailed',
        message: `1 of 1 scheduled task failed its last run; hr-broken: ExtractFailed: run ${run.id}: ${BROKEN}`,
      },
    ]);
    // The failure card of spec.failure is not part of taskYaml: no card at all was written.
    expect(await h.cards()).toEqual([]);
  });

  it('next to a succeeding task makes the connector Degraded', async () => {
    repo.write('hr-employees.yaml', taskYaml());
    repo.write('hr-broken.yaml', taskYaml({ name: 'hr-broken', query: '/broken', template: 'broken' }));
    repo.commit();
    h = await startController(repo.dir, state.dir);
    expect(await h.controller.runOnce()).toEqual({ ran: ['iga/hr-broken', TASK], failed: ['iga/hr-broken'] });
    expect(h.connector().status).toMatchObject({ health: 'Degraded', scheduledTasks: 2, eventTasks: 0 });
    expect(h.task().status.conditions?.[0]).toMatchObject({ reason: 'Succeeded', status: 'True' });
  });
});

describe('generation', () => {
  it('counts spec changes, not annotation changes, and survives a restart on the same state dir', async () => {
    repo.write('hr-employees.yaml', taskYaml());
    repo.commit();
    h = await startController(repo.dir, state.dir);
    expect(h.task().generation).toBe(1);

    repo.write('hr-employees.yaml', taskYaml({ maxFraction: 0.3 }));
    repo.commit('raise the deletion guard');
    await h.reload();
    let rec = h.task();
    expect(rec.generation).toBe(2);
    expect(rec.status.observedGeneration).toBe(2);
    expect(rec.status.conditions?.map((c) => c.observedGeneration)).toEqual([2]);

    repo.write('hr-employees.yaml', taskYaml({ maxFraction: 0.3, annotations: { team: 'iga' } }));
    repo.commit('annotate');
    await h.reload();
    expect(h.task().generation).toBe(2);

    await h.close();
    h = await startController(repo.dir, state.dir);
    rec = h.task();
    expect(rec.generation).toBe(2);
    expect(rec.status.observedGeneration).toBe(2);
    expect(h.connector().generation).toBe(1);
  });
});

describe('last good versions', () => {
  it('are forgotten for a resource deleted while the controller was down', async () => {
    repo.write('hr-employees.yaml', taskYaml());
    repo.commit();
    h = await startController(repo.dir, state.dir);
    await h.close();
    // Deleted while down, then added again under the same name in a version that does not validate.
    repo.remove('hr-employees.yaml');
    repo.commit('remove');
    h = await startController(repo.dir, state.dir);
    expect(h.store.get('Task', TASK)).toBeUndefined();
    await h.close();
    repo.write('hr-employees-v2.yaml', taskYaml({ maxFraction: 1.5 }));
    repo.commit('added again, invalid');
    h = await startController(repo.dir, state.dir);
    // Nothing of the deleted one comes back: no version runs.
    expect(h.store.get('Task', TASK)?.effective).toBeUndefined();
    expect(h.controller.scheduler.state(TASK)).toBeUndefined();
  });
});
