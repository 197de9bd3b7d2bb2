/**
 * Loads overlap with the extract: one batch may be in the target while the next pages are read and mapped.
 * Pinned here: the overlap happens, never more than one batch is in the target, and a refused batch fails the
 * run with only confirmed cards in the cache.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runTask } from '../../src/engine/run-task.js';
import type { TaskRunSummary } from '../../src/model/resources.js';
import { sharedTarget, type Target } from '../../src/targets/types.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { type EngineFixture, employees, employeeTask, engineFixture, restConnector } from './helpers.js';

let server: RestFixtureServer;
let fx: EngineFixture;
let runNo = 0;

beforeAll(async () => {
  server = await RestFixtureServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  server.collection('/employees', employees(25), { paging: 'page' });
  server.route('GET', '/employees/:id/groups', (_req, p) => ({ json: [{ name: `Team ${p.id}` }] }));
  fx = engineFixture(); // batches of 7 cards
});
afterEach(async () => {
  await fx.close();
});

/** The fixture's target with its upsert replaced; everything else goes to the real local target. */
function withUpsert(upsert: Target['upsert']): Target {
  const inner = fx.target;
  return {
    name: inner.name,
    upsert,
    ownedCards: (q) => inner.ownedCards(q),
    markDeleted: (...a) => inner.markDeleted(...a),
    createCard: (...a) => inner.createCard(...a),
    list: (t) => inner.list(t),
    close: () => inner.close(),
  };
}

const run = (target: Target): Promise<TaskRunSummary> =>
  runTask(
    { ...fx.deps, targets: sharedTarget(target) },
    {
      task: employeeTask(),
      connector: restConnector(server.url, 10),
      runId: `run-${++runNo}`,
      trigger: 'manual',
      plannedTime: new Date(),
      signal: new AbortController().signal,
    },
  );

describe('loads overlap with the extract', () => {
  it('keeps extracting while a batch is in the target, with at most one batch there at a time', async () => {
    let inTarget = 0;
    let mostInTarget = 0;
    const requestsWhileWriting: number[] = [];
    const summary = await run(
      withUpsert(async (...args) => {
        inTarget++;
        mostInTarget = Math.max(mostInTarget, inTarget);
        const before = server.requests.length;
        await new Promise((r) => setTimeout(r, 60));
        const result = await fx.target.upsert(...args);
        requestsWhileWriting.push(server.requests.length - before);
        inTarget--;
        return result;
      }),
    );
    expect(summary.extract).toMatchObject({ status: 'Succeeded', records: 25 });
    expect(summary.load).toMatchObject({ status: 'Succeeded', created: 25, updated: 0, unchanged: 0 });
    expect(mostInTarget).toBe(1);
    // 25 records in batches of 7: four batches. While the first ones were written, the extract went on
    // (subquery and page requests reached the source).
    expect(requestsWhileWriting).toHaveLength(4);
    expect(requestsWhileWriting.slice(0, 3).some((n) => n > 0)).toBe(true);
    expect(await fx.cards()).toHaveLength(25);
  });

  it('fails the run when the target refuses a batch, and caches only the cards it confirmed', async () => {
    let calls = 0;
    const summary = await run(
      withUpsert(async (...args) => {
        calls++;
        if (calls === 2) throw new Error('disk full');
        return fx.target.upsert(...args);
      }),
    );
    expect(summary.load?.status).toBe('Failed');
    expect(summary.extract?.status).toBe('Failed');
    expect(summary.extract?.info).toMatch(/^local target refused a batch of 7 cards: disk full; read \d+ records/);
    expect(summary.load?.info).toMatch(/^deletion marking skipped: the extract did not complete/);
    // The batch after the refused one was never sent; only the first batch is in the target and the cache.
    expect(calls).toBe(2);
    expect(await fx.cards()).toHaveLength(7);
    expect(fx.cache.entries('iga/hr-employees')).toBe(7);

    // The next run loads what is missing and skips what the target has confirmed.
    const next = await run(fx.target);
    expect(next.load).toMatchObject({ status: 'Succeeded', created: 18, updated: 0, unchanged: 7, deleted: 0 });
    expect(await fx.cards()).toHaveLength(25);
  });
});
