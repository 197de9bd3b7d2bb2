/**
 * The git-directory source over a real git checkout and a real file watcher: what lands in the store when
 * files are added, broken, fixed, deleted and duplicated, and what each stored resource says about why.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { typeRules } from '../../src/connectors/registry.js';
import { silentLogger } from '../../src/log/logger.js';
import type { Task } from '../../src/model/resources.js';
import { GitDirSource } from '../../src/sources/gitdir/git-dir-source.js';
import { ResourceStore, type StoreEvent } from '../../src/store/resource-store.js';
import { formatDiagnostic } from '../../src/validation/diagnostics.js';
import { connectorYaml, type GitRepo, gitRepo, taskYaml, waitFor } from '../controller/resources.js';

const BASE_URL = 'http://127.0.0.1:9/api/';
const TASK = 'iga/hr-employees';

let repo: GitRepo;
let store: ResourceStore;
let events: StoreEvent[];
let source: GitDirSource;
let taskFile: string;
let connectorFile: string;

const task = () => store.get<Task>('Task', TASK);

/** Waits until the watcher has applied a change that `done` can see, then until the source is idle. */
async function applied(what: string, done: () => boolean): Promise<void> {
  await waitFor(what, done, 10_000);
  await source.settled();
}

beforeEach(async () => {
  repo = gitRepo();
  connectorFile = repo.write('hr-api.yaml', connectorYaml({ baseUrl: BASE_URL }));
  taskFile = repo.write('hr-employees.yaml', taskYaml());
  repo.commit('initial');
  store = new ResourceStore();
  events = [];
  store.on('change', (e) => events.push(e));
  source = new GitDirSource({ dir: repo.dir, store, types: typeRules, log: silentLogger, debounceMs: 30 });
  await source.load();
});

afterEach(async () => {
  await source.close();
  repo.cleanup();
});

describe('initial load', () => {
  it('applies the Connector and the Task, valid, with origin and the checkout HEAD as revision', () => {
    const head = repo.head();
    expect(source.revision).toBe(head);
    expect(source.diagnostics).toEqual([]);
    expect(events).toEqual([
      { type: 'upserted', kind: 'Connector', key: 'iga/hr-api' },
      { type: 'upserted', kind: 'Task', key: TASK },
    ]);
    const conn = store.get('Connector', 'iga/hr-api');
    expect(conn).toMatchObject({ errors: [], warnings: [], origin: { file: connectorFile, line: 1 }, revision: head });
    expect(conn?.effective).toEqual(conn?.declared);
    const t = task();
    expect(t).toMatchObject({ errors: [], warnings: [], origin: { file: taskFile, line: 1 }, revision: head });
    expect(t?.effective).toBe(t?.declared);
    expect(t?.effective?.spec.source?.rest?.query).toBe('/employees');
  });
});

describe('watching', () => {
  beforeEach(async () => {
    await source.watch();
    events.length = 0;
  });

  it('adds the resources of a new file, stamped with the new HEAD', async () => {
    repo.write('contractors.yaml', taskYaml({ name: 'hr-contractors', query: '/contractors', template: 'contractor' }));
    const head = repo.commit('add contractors');
    await applied('the new task', () => store.get('Task', 'iga/hr-contractors') !== undefined);
    expect(events).toContainEqual({ type: 'upserted', kind: 'Task', key: 'iga/hr-contractors' });
    const added = store.get<Task>('Task', 'iga/hr-contractors');
    expect(added?.errors).toEqual([]);
    expect(added?.effective?.spec.mappings?.generic?.template).toBe('contractor');
    expect(added?.revision).toBe(head);
    expect(source.revision).toBe(head);
    expect(store.list('Task').map((t) => t.key)).toEqual(['iga/hr-contractors', TASK]);
  });

  it('keeps the last valid version of a task edited into an invalid one, with the exact finding', async () => {
    repo.write('hr-employees.yaml', taskYaml({ maxFraction: 1.5 }));
    await applied('the invalid version', () => (task()?.errors.length ?? 0) > 0);
    const t = task()!;
    expect(t.effective?.spec.deletion?.maxFraction).toBe(0.5);
    expect(t.declared.spec.deletion?.maxFraction).toBe(1.5);
    expect(t.errors.map(formatDiagnostic)).toEqual([
      `${taskFile}:24:27  spec.deletion.maxFraction  must be <= 1, not 1.5`,
    ]);
    expect(t.errors[0]).toMatchObject({ severity: 'error', resource: `Task ${TASK}` });
    expect(events).toEqual([{ type: 'upserted', kind: 'Task', key: TASK }]);

    // Fixed again: the new version runs and the finding is gone.
    repo.write('hr-employees.yaml', taskYaml({ maxFraction: 0.3 }));
    await applied('the fixed version', () => task()?.errors.length === 0);
    expect(task()?.effective?.spec.deletion?.maxFraction).toBe(0.3);
    expect(task()?.effective).toBe(task()?.declared);
  });

  it('keeps serving the resources of a file that stops parsing, with the YAML error attached', async () => {
    repo.write('hr-employees.yaml', taskYaml().replace('  deletion:', '\tdeletion:'));
    await applied('the YAML error', () => (task()?.errors.length ?? 0) > 0);
    const t = task()!;
    expect(t.errors.map(formatDiagnostic)).toEqual([
      `${taskFile}:24:1  (yaml)  invalid YAML: tabs are not allowed as indentation`,
    ]);
    // What the file declared when it last parsed: still effective, still declared.
    expect(t.effective?.spec.deletion?.maxFraction).toBe(0.5);
    expect(t.declared.spec.deletion?.maxFraction).toBe(0.5);
    expect(source.diagnostics.map(formatDiagnostic)).toEqual([
      `${taskFile}:24:1  (yaml)  invalid YAML: tabs are not allowed as indentation`,
    ]);
    // The other file's connector is untouched.
    expect(store.get('Connector', 'iga/hr-api')?.errors).toEqual([]);
    expect(events).toEqual([{ type: 'upserted', kind: 'Task', key: TASK }]);
  });

  it('keeps serving the resources of a file edited into an alias bomb, with one finding at its line', async () => {
    const level = (name: string, of: string) => `  ${name}: &${name} [${Array(9).fill(of).join(', ')}]\n`;
    const letters = 'abcdefghi';
    const bomb = [...letters].map((l, i) => level(l, i === 0 ? '"lol"' : `*${letters[i - 1]}`)).join('');
    repo.write('hr-employees.yaml', taskYaml() + bomb);
    await applied('the alias bomb finding', () => (task()?.errors.length ?? 0) > 0);
    const finding =
      `${taskFile}:27:10  (yaml)  invalid YAML: aliases expand to more than 100 nodes (*b repeats &b, which holds ` +
      'further aliases), as a "billion laughs" alias bomb does; the document is not read: write the values out ' +
      'instead of nesting aliases';
    expect(task()!.errors.map(formatDiagnostic)).toEqual([finding]);
    expect(task()!.effective?.spec.deletion?.maxFraction).toBe(0.5);
    expect(source.diagnostics.map(formatDiagnostic)).toEqual([finding]);
    expect(store.get('Connector', 'iga/hr-api')?.errors).toEqual([]);
  });

  it('watches the files a fresh start reads: not hidden folders, not JSON', async () => {
    repo.write('.github/workflows/ci.yaml', 'name: ci\non: [push]\njobs: {}\n');
    repo.write('notes.json', '{"owner": "iga team"}\n');
    repo.write('contractors.yaml', taskYaml({ name: 'hr-contractors', query: '/contractors' }));
    await applied('the new task', () => store.get('Task', 'iga/hr-contractors') !== undefined);
    const fresh = new GitDirSource({ dir: repo.dir, store: new ResourceStore(), types: typeRules, log: silentLogger });
    await fresh.load();
    expect(fresh.diagnostics).toEqual([]);
    expect(source.diagnostics).toEqual([]);
    expect(events).toEqual([{ type: 'upserted', kind: 'Task', key: 'iga/hr-contractors' }]);
  });

  it('removes the resources of a deleted file', async () => {
    repo.remove('hr-employees.yaml');
    await applied('the deletion', () => task() === undefined);
    expect(events).toEqual([{ type: 'deleted', kind: 'Task', key: TASK }]);
    expect(store.list('Task')).toEqual([]);
    expect(store.get('Connector', 'iga/hr-api')).toBeDefined();
  });

  it('keeps the first declaration of a duplicated task and reports the second', async () => {
    const copy = repo.write('zz-copy.yaml', taskYaml({ query: '/contractors', template: 'contractor' }));
    await applied('the duplicate finding', () => source.diagnostics.length > 0);
    expect(source.diagnostics.map(formatDiagnostic)).toEqual([
      `${copy}:4:9  metadata.name  duplicate Task "${TASK}": already defined at ${taskFile}:1`,
    ]);
    const t = task()!;
    expect(t.origin).toEqual({ file: taskFile, line: 1 });
    expect(t.errors).toEqual([]);
    expect(t.effective?.spec.mappings?.generic?.template).toBe('employee');
    expect(store.list('Task')).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('resolves a duplicate the same way while watching as after a restart (file order, as validate does)', async () => {
    // a-copy.yaml sorts before hr-employees.yaml: a fresh start, and `provisio validate`, take it as the first.
    const copy = repo.write('a-copy.yaml', taskYaml({ query: '/contractors', template: 'contractor' }));
    await applied('the duplicate finding', () => source.diagnostics.length > 0);
    const restarted = new ResourceStore();
    const fresh = new GitDirSource({ dir: repo.dir, store: restarted, types: typeRules, log: silentLogger });
    await fresh.load();
    expect(fresh.diagnostics.map(formatDiagnostic)).toEqual([
      `${taskFile}:4:9  metadata.name  duplicate Task "${TASK}": already defined at ${copy}:1`,
    ]);
    expect(source.diagnostics.map(formatDiagnostic)).toEqual(fresh.diagnostics.map(formatDiagnostic));
    expect(task()?.origin).toEqual({ file: copy, line: 1 });
    expect(task()?.effective?.spec.mappings?.generic?.template).toBe('contractor');
    expect(restarted.get('Task', TASK)?.origin).toEqual({ file: copy, line: 1 });
  });
});
