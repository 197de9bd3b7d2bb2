/**
 * The contract kit (DESIGN §4): the same behavioural cases against every connector type and every target.
 * What a user relies on whatever the source: every record arrives, a stop or a failure part-way loads what
 * was read and marks nothing deleted, an incomplete extract loads and marks nothing deleted; and, for types
 * that have them, cursors, delete ops and references.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EngineDeps, runTask } from '../../src/engine/run-task.js';
import { silentLogger } from '../../src/log/logger.js';
import type { Task, TaskRunSummary } from '../../src/model/resources.js';
import { LocalSecretResolver } from '../../src/secrets/resolver.js';
import { SqliteTaskCache } from '../../src/state/sqlite/sqlite-task-cache.js';
import { sharedTarget, type Target, type UpsertOptions } from '../../src/targets/types.js';
import { connectorSubjects, personMapping, type Row, targetSubjects } from './subjects.js';

const people = (n: number, from = 1): Row[] =>
  Array.from({ length: n }, (_, i) => ({ id: `P${from + i}`, name: `Person ${from + i}` }));

/** The real target underneath, with the order of the templates it was asked to write. */
function recording(target: Target) {
  const upserts: Array<{ template: string; keys: string[]; options?: UpsertOptions }> = [];
  const hooks: { onUpsert?: () => void } = {};
  const wrapped: Target = {
    name: target.name,
    check: target.check ? (requirements) => target.check!(requirements) : undefined,
    upsert: (template, folder, unique, cards, options) => {
      upserts.push({ template, keys: cards.map((c) => c.key), options });
      hooks.onUpsert?.();
      return target.upsert(template, folder, unique, cards, options);
    },
    ownedCards: (q) => target.ownedCards(q),
    markDeleted: (...a) => target.markDeleted(...a),
    createCard: (...a) => target.createCard(...a),
    list: (t) => target.list(t),
    close: () => target.close(),
  };
  return { wrapped, upserts, hooks };
}

for (const targetSubject of targetSubjects) {
  describe(`contract: into the ${targetSubject.name} target`, () => {
    beforeAll(async () => targetSubject.start?.());
    afterAll(async () => targetSubject.stop?.());
    for (const subject of connectorSubjects()) {
      describe(`contract: ${subject.name} into the ${targetSubject.name} target`, () => {
        let dir: string;
        let target: ReturnType<typeof targetSubject.open>;
        let recorder: ReturnType<typeof recording>;
        let cache: SqliteTaskCache;
        let deps: EngineDeps;
        let runNo = 0;

        beforeAll(() => subject.start());
        afterAll(() => subject.stop());
        beforeEach(() => {
          dir = mkdtempSync(join(tmpdir(), 'provisio-contract-'));
          target = targetSubject.open(dir);
          recorder = recording(target);
          cache = new SqliteTaskCache(join(dir, 'state.db'));
          deps = {
            targets: sharedTarget(recorder.wrapped),
            connectorTypes: subject.registry,
            cache,
            secrets: subject.secrets ?? new LocalSecretResolver(undefined, {}),
            log: silentLogger,
            artifactsRoot: join(dir, 'artifacts'),
            batchSize: 25,
          };
        });
        afterEach(async () => {
          cache.close();
          await target.close();
          rmSync(dir, { recursive: true, force: true });
        });

        const run = (
          task: Task = subject.task(),
          signal = new AbortController().signal,
          onProgress?: (r: TaskRunSummary) => void,
        ) =>
          runTask(deps, {
            task,
            connector: subject.connector(),
            runId: `run-${++runNo}`,
            trigger: 'manual',
            plannedTime: new Date(),
            signal,
            onProgress,
          });
        const cards = async (template = 'person') => {
          const out = new Map<string, Record<string, unknown>>();
          for await (const c of target.list(template)) out.set(String(c.person_id ?? c.user_id ?? c.group_id), c);
          return out;
        };
        const marked = async () => [...(await cards()).values()].filter((c) => c.status === 'Deleted').length;

        it('streams every record into a card', async () => {
          subject.serve(people(120));
          const r = await run();
          expect(r.reason).toBe('Succeeded');
          expect(r.extract).toMatchObject({ status: 'Succeeded', records: 120 });
          expect(r.load).toMatchObject({ status: 'Succeeded', created: 120, updated: 0, deleted: 0, failed: 0 });
          const all = await cards();
          expect(all.size).toBe(120);
          expect(all.get('P77')).toEqual({ person_id: 'P77', name: 'Person 77', task_id: 'contract/people' });
        });

        it('stopped part-way: loads what it read, records Stopped, marks nothing deleted', async () => {
          subject.serve(people(120));
          await run();
          subject.serve(people(120, 1000)); // every record new: a full run would mark the old 120
          const stop = new AbortController();
          // Stopped when the first batch reaches the target: the extract is still going.
          recorder.hooks.onUpsert = () => stop.abort();
          const r = await run(subject.task(), stop.signal);
          expect(r.reason).toBe('Stopped');
          expect(r.extract?.status).toBe('Stopped');
          expect(r.load?.status).toBe('Stopped');
          expect(r.load?.deleted).toBe(0);
          expect(await marked()).toBe(0);
          const loaded = (await cards()).size - 120;
          expect(loaded).toBeGreaterThanOrEqual(25);
          expect(loaded).toBeLessThanOrEqual(r.extract?.records ?? 0);
          expect(r.extract?.records).toBeLessThan(120);
        });

        it('failing part-way: loads what it read, records ExtractFailed, marks nothing deleted', async () => {
          subject.serve(people(120));
          await run();
          subject.serve(people(60), { failAfter: 40 });
          const r = await run();
          expect(r.reason).toBe('ExtractFailed');
          expect(r.extract?.status).toBe('Failed');
          expect(r.extract?.info).toMatch(/the source broke/);
          expect(r.load?.info).toMatch(/^deletion marking skipped: the extract did not complete/);
          expect(r.load).toMatchObject({ status: 'Skipped', deleted: 0, unchanged: 40 });
          expect(await marked()).toBe(0);
        });

        it('incomplete: loads what it read, records ExtractIncomplete, marks nothing deleted', async () => {
          subject.serve(people(120));
          await run();
          const fewer = people(60);
          fewer[0] = { id: 'P1', name: 'Renamed' };
          subject.serve(fewer, { incomplete: true });
          const r = await run();
          expect(r.reason).toBe('ExtractIncomplete');
          expect(r.extract?.status).toBe('Incomplete');
          expect(r.load?.deleted).toBe(0);
          expect(await marked()).toBe(0);
          expect((await cards()).get('P1')?.name).toBe('Renamed');
        });

        if (subject.can.cursors)
          it('hands each kind its cursor after a successful load, resyncing a kind once when asked', async () => {
            const scripted = subject.scripted!;
            scripted.calls.length = 0;
            const incremental = subject.task({ fetch: 'incremental' });
            scripted.scripts.set('people', {
              records: people(3).map((data) => ({ kind: 'generic', data })),
              outcome: { complete: true, cursors: { generic: 'delta-1' } },
            });
            await run(incremental);
            expect(cache.meta('contract/people').cursors).toEqual({ generic: 'delta-1' });
            // A cache clear does not reset incremental state.
            cache.requestClear('contract/people');
            scripted.scripts.set('people', {
              records: [],
              outcome: { complete: true, cursors: { generic: 'delta-2' } },
            });
            await run(incremental);
            // An expired cursor: the kind is read in full once, in the same run, and the new cursor stored.
            scripted.scripts.set('people', {
              records: people(3).map((data) => ({ kind: 'generic', data })),
              resync: 'generic',
              outcome: { complete: true, cursors: { generic: 'delta-full' } },
            });
            const resynced = await run(incremental);
            expect(resynced.reason).toBe('Succeeded');
            expect(scripted.calls).toEqual([
              { mode: 'full', cursors: {} },
              { mode: 'incremental', cursors: { generic: 'delta-1' } },
              { mode: 'incremental', cursors: { generic: 'delta-2' } },
              { mode: 'full', cursors: {} },
            ]);
            expect(cache.meta('contract/people').cursors).toEqual({ generic: 'delta-full' });
            // A failed run leaves the cursor where the last successful load put it.
            scripted.scripts.set('people', {
              records: people(3).map((data) => ({ kind: 'generic', data })),
              failAfter: 1,
              outcome: { complete: true, cursors: { generic: 'never' } },
            });
            await run(incremental);
            expect(cache.meta('contract/people').cursors).toEqual({ generic: 'delta-full' });
          });

        if (subject.can.deletes)
          it('marks records the source reports deleted at once, in incremental runs too, and restores them when they return', async () => {
            const scripted = subject.scripted!;
            const incremental = subject.task({ fetch: 'incremental', deletion: { maxFraction: 0.01, confirmRuns: 3 } });
            scripted.scripts.set('people', { records: people(10).map((data) => ({ kind: 'generic', data })) });
            await run(incremental);
            scripted.scripts.set('people', {
              records: [
                { kind: 'generic', op: 'delete', key: 'P2', data: {} },
                { kind: 'generic', op: 'delete', data: { id: 'P3' } },
                { kind: 'generic', op: 'delete', key: 'P404', data: {} },
              ],
            });
            const r = await run(incremental);
            // Confirmed by the source: neither confirmRuns nor maxFraction holds these back.
            expect(r.load).toMatchObject({ status: 'Succeeded', deleted: 2 });
            expect((await cards()).get('P2')?.status).toBe('Deleted');
            expect((await cards()).get('P3')?.status).toBe('Deleted');
            scripted.scripts.set('people', { records: [{ kind: 'generic', data: { id: 'P2', name: 'Person 2' } }] });
            const back = await run(incremental);
            expect(back.load).toMatchObject({ updated: 1, restored: 1 });
            expect((await cards()).get('P2')).not.toHaveProperty('status');
          });

        if (subject.can.references)
          it('loads the referenced kind first and tells the target which attributes are references', async () => {
            const scripted = subject.scripted!;
            const task = subject.task({
              mappingsType: 'identityAndAccess',
              mappings: {
                identity: {
                  template: 'user',
                  attributes: [
                    { external: 'id', local: 'user_id', unique: true },
                    { external: 'memberOf', local: 'groups', references: 'access' },
                  ],
                },
                access: { template: 'group', attributes: [{ external: 'id', local: 'group_id', unique: true }] },
              },
            });
            // Users come first from the source, as a Graph or LDAP extract may send them.
            scripted.scripts.set('people', {
              records: [
                ...people(60).map((p, i) => ({
                  kind: 'identity' as const,
                  data: { id: p.id, memberOf: [`G${i % 3}`] },
                })),
                ...[0, 1, 2].map((i) => ({ kind: 'access' as const, data: { id: `G${i}` } })),
              ],
            });
            const r = await run(task);
            expect(r.load).toMatchObject({ status: 'Succeeded', created: 63 });
            const order = recorder.upserts.map((u) => u.template);
            expect(order.indexOf('group')).toBeLessThan(order.indexOf('user'));
            expect(order.filter((t) => t === 'user')).toHaveLength(3); // 60 users in batches of 25
            expect(recorder.upserts.find((u) => u.template === 'user')?.options?.references).toEqual([
              { attribute: 'groups', template: 'group', uniqueAttribute: 'group_id' },
            ]);
            const users = await cards('user');
            expect(users.get('P5')?.groups).toEqual(['G1']);
          });
      });
    }
  });
}

// Keeps the mapping helper's shape pinned for subjects that build their own tasks.
it('person mapping stamps the task id and marks deletions on status', () => {
  expect(personMapping()).toMatchObject({ taskIdAttribute: 'task_id', onDeleted: { attribute: 'status' } });
});
