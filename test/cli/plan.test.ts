/**
 * `provisio plan` (issue 16, part 5) as a child process, against a REST source after real runs: exact counts and
 * keys of what a run would create, update, leave, mark deleted and restore; the deletion guard's refusal exits
 * 1; and the state directory (cards, cache, cursors, status, artifacts) is byte-identical afterwards.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorYaml, type GitRepo, gitRepo, taskYaml, tempDir } from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli } from '../server/child.js';

let api: RestFixtureServer;
let repo: GitRepo;
let state: { dir: string; cleanup(): void };
let rows: Array<{ id: string; name: string }>;

const row = (id: string, name = `Employee ${id}`) => ({ id, name });

/** Every file under the state directory with the hash of its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const once = () => cli(['run', '--dir', repo.dir, '--state-dir', state.dir, '--once'], { timeoutMs: 30_000 });
const plan = (...args: string[]) =>
  cli(['plan', 'iga/hr-employees', '--dir', repo.dir, '--state-dir', state.dir, ...args], { timeoutMs: 30_000 });

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.route('GET', '/employees', () => ({ json: rows }));
  repo = gitRepo();
  repo.write('hr-api.yaml', connectorYaml({ baseUrl: api.url }));
  repo.write('hr-employees.yaml', taskYaml());
  repo.commit();
  state = tempDir();
  // Run 1 loads E1..E5; run 2 does not see E5, which is marked deleted.
  rows = ['E1', 'E2', 'E3', 'E4', 'E5'].map((id) => row(id));
  expect((await once()).code).toBe(0);
  rows = ['E1', 'E2', 'E3', 'E4'].map((id) => row(id));
  expect((await once()).code).toBe(0);
});
afterAll(async () => {
  await api.close();
  repo.cleanup();
  state.cleanup();
});

describe('provisio plan', () => {
  it('prints what a run would create, update, leave, mark deleted and restore, and writes nothing', async () => {
    // Now: E2 renamed, E4 gone, E5 back, E6 new.
    rows = [row('E1'), row('E2', 'Renamed'), row('E3'), row('E5'), row('E6')];
    const before = snapshot(state.dir);
    const r = await plan('-o', 'wide');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      [
        'Plan for Task iga/hr-employees: the extract would read 5 records in 1 API call; the load would',
        '  create       1   E6',
        '  update       1   E2',
        '  unchanged    2',
        '  mark deleted 1   E4',
        '  restore      1   E5',
        '  not loaded   0',
        'Nothing was written.',
        '',
      ].join('\n'),
    );
    expect(snapshot(state.dir)).toEqual(before);

    const json = await plan('-o', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      task: 'iga/hr-employees',
      succeeds: true,
      create: 1,
      update: 1,
      unchanged: 2,
      markDeleted: 1,
      restore: 1,
      notLoaded: 0,
      keys: { create: ['E6'], update: ['E2'], delete: ['E4'], restore: ['E5'] },
    });
    expect(snapshot(state.dir)).toEqual(before);

    // The run the plan described does exactly that.
    expect((await once()).code).toBe(0);
    const cards = await cli(['cards', 'employee', '--state-dir', state.dir, '-o', 'json']);
    const byId = Object.fromEntries(
      (JSON.parse(cards.stdout) as Array<Record<string, string>>).map((c) => [c.employee_id, c]),
    );
    expect(byId.E2.name).toBe('Renamed');
    expect(byId.E4.status).toBe('Deleted');
    expect(byId.E5.status).toBeUndefined();
    expect(byId.E6.name).toBe('Employee E6');
  });

  it('exits 1 when the deletion guard would refuse, naming the refusal, and writes nothing', async () => {
    rows = [row('E1')];
    const before = snapshot(state.dir);
    const r = await plan();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  mark deleted 0\n');
    expect(r.stdout).toMatch(
      /The run would fail: DeletionRefused: refusing to mark 4 of 5 employee cards deleted \(80% > deletion\.maxFraction 50%\); nothing was marked\./,
    );
    expect(snapshot(state.dir)).toEqual(before);
  });

  it('exits 1 when the extract would fail', async () => {
    api.route('GET', '/employees', () => ({ json: { errors: 'HR database is down', resultset: [] } }));
    const before = snapshot(state.dir);
    const r = await plan();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'The run would fail: ExtractFailed: response from GET /employees has an error at "errors" (errorMarker): HR database is down',
    );
    expect(snapshot(state.dir)).toEqual(before);
  });
});
