import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lastClearTime, runTask } from '../../src/engine/run-task.js';
import type { Connector, Task, TaskRunSummary } from '../../src/model/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { type EngineFixture, employees, employeeTask, engineFixture, restConnector } from './helpers.js';

let server: RestFixtureServer;
let fx: EngineFixture;
let rows: Array<Record<string, unknown>>;
let connector: Connector;
let runNo = 0;

const run = (task: Task, opts: { signal?: AbortSignal; now?: Date } = {}): Promise<TaskRunSummary> =>
  runTask(fx.deps, {
    task,
    connector,
    runId: `run-${++runNo}`,
    trigger: 'manual',
    plannedTime: opts.now ?? new Date(),
    signal: opts.signal ?? new AbortController().signal,
    now: opts.now ? () => opts.now as Date : undefined,
  });

beforeAll(async () => {
  server = await RestFixtureServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  rows = employees(25);
  server.collection('/employees', rows, { paging: 'page' });
  server.route('GET', '/employees/:id/groups', (_req, p) => ({ json: [{ name: `Team ${p.id}` }, { name: 'All' }] }));
  connector = restConnector(server.url, 10);
  fx = engineFixture();
});
afterEach(async () => {
  await fx.close();
});

const byId = (cards: Array<Record<string, unknown>>) => new Map(cards.map((c) => [c.employee_id, c]));

describe('a scheduled run', () => {
  it('extracts every page, maps paths, subquery and stamps, and loads cards', async () => {
    const r = await run(employeeTask());
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 25, info: 'read 25 records in 28 API calls' });
    expect(r.load).toMatchObject({ status: 'Succeeded', created: 25, updated: 0, unchanged: 0, deleted: 0, failed: 0 });
    const cards = byId(await fx.cards());
    expect(cards.size).toBe(25);
    expect(cards.get('E7')).toEqual({
      employee_id: 'E7',
      first_name: 'First7',
      primary_group: 'Team E7',
      task_id: 'iga/hr-employees',
      source_type: 'rest',
    });
  });

  it('records every history field of the seeds', async () => {
    const r = await run(employeeTask());
    expect(r.id).toBe(`run-${runNo}`);
    expect(r.trigger).toBe('manual');
    for (const t of [
      r.plannedTime,
      r.startTime,
      r.extract?.completionTime,
      r.load?.startTime,
      r.load?.completionTime,
    ]) {
      expect(Number.isNaN(Date.parse(t as string))).toBe(false);
    }
    expect(r.load?.info).toBe('created 25, updated 0, unchanged 0, marked deleted 0, not loaded 0');
    const artifact = r.artifacts?.generic as string;
    const extracted = JSON.parse(readFileSync(artifact, 'utf8')) as unknown[];
    expect(extracted).toHaveLength(25);
    expect(extracted[0]).toEqual({ ...rows[0], '/employees/{id}/groups': [{ name: 'Team E1' }, { name: 'All' }] });
  });

  it('loads nothing again when nothing changed', async () => {
    await run(employeeTask());
    const again = await run(employeeTask());
    expect(again.load).toMatchObject({ status: 'Succeeded', created: 0, updated: 0, unchanged: 25, deleted: 0 });
  });

  it('loads only the record that changed', async () => {
    await run(employeeTask());
    rows[3].name = { 'first-name': 'Renamed' };
    const again = await run(employeeTask());
    expect(again.load).toMatchObject({ created: 0, updated: 1, unchanged: 24 });
    expect(byId(await fx.cards()).get('E4')?.first_name).toBe('Renamed');
  });

  it('marks a card deleted when its source row disappears, and only that card', async () => {
    await run(employeeTask());
    rows.splice(4, 1); // E5 leaves the source
    const again = await run(employeeTask());
    expect(again.load).toMatchObject({ status: 'Succeeded', deleted: 1, unchanged: 24 });
    const cards = byId(await fx.cards());
    expect(cards.get('E5')?.status).toBe('Deleted');
    expect([...cards.values()].filter((c) => c.status === 'Deleted')).toHaveLength(1);
    // Marked cards are not counted again.
    expect((await run(employeeTask())).load?.deleted).toBe(0);
  });

  it('restores a marked card whose record comes back: the deletion attribute is cleared, counted as restored', async () => {
    await run(employeeTask());
    const [gone] = rows.splice(4, 1);
    const marked = await run(employeeTask());
    expect(marked.load).toMatchObject({ deleted: 1 });
    expect(byId(await fx.cards()).get('E5')?.status).toBe('Deleted');
    rows.splice(4, 0, gone);
    const back = await run(employeeTask());
    expect(back.load).toMatchObject({ updated: 1, unchanged: 24, deleted: 0, restored: 1 });
    expect(back.load?.info).toBe('created 0, updated 1, unchanged 24, marked deleted 0, restored 1, not loaded 0');
    const card = byId(await fx.cards()).get('E5');
    expect(card).toBeDefined();
    expect(card).not.toHaveProperty('status');
    expect(card?.first_name).toBe('First5');
  });

  it('restores with onDeleted.restoreValue when it is set', async () => {
    const task = () =>
      employeeTask({
        mappings: {
          generic: {
            ...employeeTask().spec.mappings!.generic!,
            onDeleted: { attribute: 'status', value: 'Deleted', restoreValue: 'Active' },
          },
        },
      });
    await run(task());
    const [gone] = rows.splice(4, 1);
    await run(task());
    rows.splice(4, 0, gone);
    const back = await run(task());
    expect(back.load).toMatchObject({ restored: 1, deleted: 0 });
    expect(byId(await fx.cards()).get('E5')?.status).toBe('Active');
    // A card that was never marked keeps whatever it had: restoring touches marked cards only.
    expect(byId(await fx.cards()).get('E4')).not.toHaveProperty('status');
  });

  it('with deletion.confirmRuns 2 marks a card only after two complete runs in a row without its record', async () => {
    const task = () => employeeTask({ deletion: { maxFraction: 0.2, confirmRuns: 2 } });
    await run(task());
    const [gone] = rows.splice(4, 1);
    const once = await run(task());
    expect(once.load).toMatchObject({ status: 'Succeeded', deleted: 0, missing: 1 });
    expect(once.load?.info).toBe(
      'created 0, updated 0, unchanged 24, marked deleted 0, not loaded 0; 1 record missing once; marked after the next complete run',
    );
    expect(byId(await fx.cards()).get('E5')).not.toHaveProperty('status');
    // Back for one run: the count starts again, so one more miss is "once" again, not "twice".
    rows.splice(4, 0, gone);
    expect((await run(task())).load).toMatchObject({ deleted: 0 });
    rows.splice(4, 1);
    expect((await run(task())).load).toMatchObject({ deleted: 0, missing: 1 });
    const twice = await run(task());
    expect(twice.load).toMatchObject({ status: 'Succeeded', deleted: 1 });
    expect(twice.load).not.toHaveProperty('missing');
    expect(byId(await fx.cards()).get('E5')?.status).toBe('Deleted');
  });

  it('does not count a miss in a run that failed, and says in status how many runs are left', async () => {
    const task = () => employeeTask({ deletion: { maxFraction: 0.2, confirmRuns: 3 } });
    await run(task());
    rows.splice(0, 2);
    expect((await run(task())).load?.info).toContain('2 records missing once; marked after 2 more complete runs');
    const fail = { kind: 'status' as const, status: 503, body: 'maintenance' };
    server.fault((r) => r.path === '/employees' && r.query.get('page') === '2', fail, fail, fail, fail, fail);
    expect((await run(task())).extract?.status).toBe('Failed');
    expect((await run(task())).load?.info).toContain('2 records missing twice; marked after the next complete run');
    expect((await run(task())).load).toMatchObject({ deleted: 2 });
  });

  it('marks nothing deleted after a failed extract', async () => {
    await run(employeeTask());
    rows.splice(0, 2);
    const fail = { kind: 'status' as const, status: 503, body: 'maintenance' };
    server.fault((r) => r.path === '/employees' && r.query.get('page') === '2', fail, fail, fail, fail, fail);
    const r = await runTask(
      { ...fx.deps },
      {
        task: employeeTask(),
        connector: { ...connector, spec: { ...connector.spec } },
        runId: 'failing',
        trigger: 'schedule',
        plannedTime: new Date(),
        signal: new AbortController().signal,
      },
    );
    expect(r.extract?.status).toBe('Failed');
    expect(r.extract?.info).toMatch(/503/);
    expect(r.load?.deleted).toBe(0);
    expect(r.load?.info).toMatch(/^deletion marking skipped: the extract did not complete/);
    expect((await fx.cards()).filter((c) => c.status === 'Deleted')).toHaveLength(0);
    const failures = await fx.cards('failure');
    expect(failures).toHaveLength(1);
    expect(String(failures[0].message)).toMatch(/^Task iga\/hr-employees run failing failed: .*503/);
  }, 60_000);

  it('refuses to mark more than deletion.maxFraction and marks nothing', async () => {
    await run(employeeTask());
    rows.splice(0, 10); // 40% of the cards
    const r = await run(employeeTask());
    expect(r.extract?.status).toBe('Succeeded');
    expect(r.load?.status).toBe('Failed');
    expect(r.load?.info).toContain(
      'refusing to mark 10 of 25 employee cards deleted (40% > deletion.maxFraction 20%); nothing was marked.',
    );
    expect((await fx.cards()).filter((c) => c.status === 'Deleted')).toHaveLength(0);
    // With the guard raised the same run marks them.
    const allowed = await run(employeeTask({ deletion: { maxFraction: 0.5 } }));
    expect(allowed.load).toMatchObject({ status: 'Succeeded', deleted: 10 });
  });

  it('reloads everything when the mappings change', async () => {
    await run(employeeTask());
    const task = employeeTask();
    task.spec.mappings!.generic!.attributes.push({ external: "name['last-name']", local: 'last_name', default: 'n/a' });
    const r = await run(task);
    expect(r.load).toMatchObject({ created: 0, updated: 25, unchanged: 0 });
    expect(byId(await fx.cards()).get('E1')?.last_name).toBe('n/a');
  });

  it('reports records without the unique attribute by position and loads the rest', async () => {
    rows.splice(2, 0, { name: { 'first-name': 'Nobody' } });
    const r = await run(employeeTask());
    expect(r.load).toMatchObject({ status: 'Succeeded', created: 25, failed: 1 });
    expect(r.load?.info).toBe(
      'created 25, updated 0, unchanged 0, marked deleted 0, not loaded 1; record #3 has no value at "id" (the unique attribute) and was not loaded',
    );
  });

  it('reports a path that yields a list of objects with the record key', async () => {
    const task = employeeTask();
    task.spec.mappings!.generic!.attributes.push({ external: '/employees/{id}/groups', local: 'groups' });
    const r = await run(task);
    expect(r.load?.info).toContain(
      'employee_id=E1: /employees/{id}/groups yields a list of objects; pick an element with .0. or a field of it',
    );
    expect(r.load?.created).toBe(25);
  });

  it('stops on request: extract Stopped, no deletion marking, no failure card', async () => {
    await run(employeeTask());
    rows.splice(0, 1);
    server.fault((r) => r.path === '/employees' && r.query.get('page') === '2', { kind: 'delay', ms: 2000 });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 300);
    const r = await run(employeeTask(), { signal: stop.signal });
    expect(r.extract?.status).toBe('Stopped');
    expect(r.load?.status).toBe('Stopped');
    expect(r.load?.deleted).toBe(0);
    expect(await fx.cards('failure')).toHaveLength(0);
  });

  it('fails as incomplete at the safety threshold and marks nothing', async () => {
    await run(employeeTask());
    rows.splice(0, 1);
    const task = employeeTask();
    task.spec.source!.rest!.safetyThreshold = 5;
    const r = await run(task);
    expect(r.extract?.status).toBe('Incomplete');
    expect(r.extract?.info).toMatch(/safety threshold of 5 API calls/);
    expect(r.load?.deleted).toBe(0);
  });

  it('fails the run when a response carries the error marker', async () => {
    server.collection('/employees', rows, {
      paging: 'page',
      marker: 'items',
      errorOnPage: { page: 1, field: 'errors', value: [{ message: 'quota exceeded' }] },
    });
    const task = employeeTask();
    task.spec.source!.rest!.valueMarker = 'items';
    const r = await run(task);
    expect(r.extract?.status).toBe('Failed');
    expect(r.extract?.info).toMatch(/quota exceeded/);
    expect(r.load?.deleted).toBe(0);
  });
});

describe('the task cache', () => {
  it('is cleared at the configured UTC hours, so the first run after loads everything', async () => {
    const day1 = new Date('2026-11-20T10:00:00Z');
    await run(employeeTask({ cache: { clearAt: ['00:00', '12:00'] } }), { now: day1 });
    const sameMorning = await run(employeeTask({ cache: { clearAt: ['00:00', '12:00'] } }), {
      now: new Date('2026-11-20T11:59:00Z'),
    });
    expect(sameMorning.load).toMatchObject({ updated: 0, unchanged: 25 });
    const afterNoon = await run(employeeTask({ cache: { clearAt: ['00:00', '12:00'] } }), {
      now: new Date('2026-11-20T12:01:00Z'),
    });
    expect(afterNoon.load).toMatchObject({ updated: 25, unchanged: 0 });
    expect(fx.cache.meta('iga/hr-employees').clearedAt).toBe('2026-11-20T12:01:00.000Z');
  });

  it('is cleared on request at the next run start, keeping the incremental cursors', async () => {
    await run(employeeTask());
    fx.cache.setCursors('iga/hr-employees', { generic: 'delta-token-7' });
    fx.cache.requestClear('iga/hr-employees');
    const r = await run(employeeTask());
    expect(r.load).toMatchObject({ updated: 25, unchanged: 0 });
    expect(fx.cache.meta('iga/hr-employees').cursors).toEqual({ generic: 'delta-token-7' });
    expect(fx.cache.meta('iga/hr-employees').clearRequested).toBe(false);
  });

  it('lastClearTime picks the latest configured time at or before now', () => {
    const now = new Date('2026-11-20T05:30:00Z');
    expect(lastClearTime(['00:00'], now)?.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(lastClearTime(['06:00'], now)?.toISOString()).toBe('2026-11-19T06:00:00.000Z');
    expect(lastClearTime(['06:00', '03:15'], now)?.toISOString()).toBe('2026-11-20T03:15:00.000Z');
  });
});

describe('artifacts', () => {
  it('keeps the extracted JSON of the last three runs only', async () => {
    for (let i = 0; i < 5; i++) await run(employeeTask());
    const dir = join(fx.dir, 'artifacts', 'iga', 'hr-employees');
    const kept = readdirSync(dir).sort();
    expect(kept).toEqual([`run-${runNo - 2}`, `run-${runNo - 1}`, `run-${runNo}`]);
    expect(existsSync(join(dir, `run-${runNo}`, 'generic.json'))).toBe(true);
  });
});
