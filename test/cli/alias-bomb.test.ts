/**
 * A "billion laughs" alias bomb in one file of a directory: `provisio validate` reports it as one finding at
 * its file:line and still validates the other files, and `provisio run --dir --once` still runs the tasks the
 * other files declare. Real files in a git checkout, the real CLI as a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorYaml, employeeRows, type GitRepo, gitRepo, taskYaml, tempDir } from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli } from '../server/child.js';

/** Nine levels of nine aliases: 9^9 strings once expanded. The first alias of a list of aliases (*b) is on line 10. */
const BOMB = `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata:
  name: laughs
  namespace: iga
spec:
  type: rest
  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
`;

const BOMB_FINDING =
  'bomb.yaml:10:10  (yaml)  invalid YAML: aliases expand to more than 100 nodes (*b repeats &b, which holds ' +
  'further aliases), as a "billion laughs" alias bomb does; the document is not read: write the values out ' +
  'instead of nesting aliases';

let api: RestFixtureServer;
const cleanups: Array<() => void> = [];

function workspace(files: Record<string, string>): GitRepo {
  const repo = gitRepo();
  for (const [name, text] of Object.entries(files)) repo.write(name, text);
  repo.commit();
  cleanups.push(repo.cleanup);
  return repo;
}

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
});
afterAll(async () => {
  await api.close();
  for (const c of cleanups) c();
});

describe('an alias bomb in one file', () => {
  it('validate: one finding at its file:line, and the other files are validated as usual', async () => {
    const repo = workspace({
      'bomb.yaml': BOMB,
      'hr-api.yaml': connectorYaml({ baseUrl: api.url }),
      'hr-employees.yaml': taskYaml({ maxFraction: 1.5 }),
    });
    const r = await cli(['validate', repo.dir]);
    expect(r.code).toBe(1);
    const shown = (text: string) => text.split(`${repo.dir}/`).join('');
    expect(shown(r.stdout).trimEnd().split('\n')).toEqual([
      BOMB_FINDING,
      'hr-employees.yaml:24:27  spec.deletion.maxFraction  must be <= 1, not 1.5',
    ]);
    expect(r.stderr).toMatch(/^2 resources in 3 files: 2 errors, 0 warnings \(\d+ ms\)\n$/);
  });

  it('validate -o json names the file and line of the bomb too', async () => {
    const repo = workspace({ 'bomb.yaml': BOMB, 'hr-api.yaml': connectorYaml({ baseUrl: api.url }) });
    const r = await cli(['validate', '-o', 'json', repo.dir]);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout) as { errors: Array<Record<string, unknown>>; resources: unknown[] };
    expect(body.errors).toEqual([
      {
        file: `${repo.dir}/bomb.yaml`,
        line: 10,
        col: 10,
        field: '(yaml)',
        message: BOMB_FINDING.split('  (yaml)  ')[1],
      },
    ]);
    expect(body.resources).toEqual([
      { kind: 'Connector', namespace: 'iga', name: 'hr-api', file: `${repo.dir}/hr-api.yaml`, valid: true },
    ]);
  });

  it('run --dir --once: starts, and runs the tasks of the other files', async () => {
    const repo = workspace({
      'bomb.yaml': BOMB,
      'hr-api.yaml': connectorYaml({ baseUrl: api.url }),
      'hr-employees.yaml': taskYaml(),
    });
    const state = tempDir();
    cleanups.push(state.cleanup);
    const r = await cli(['run', '--dir', repo.dir, '--state-dir', state.dir, '--once']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')[1]).toBe(
      'iga/hr-employees   Succeeded   3         Succeeded   3         0         0           0         0',
    );
    // The bomb is said once, where it is, as a document that declares nothing.
    const logged = r.stderr
      .trimEnd()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string });
    expect(logged.map((e) => e.msg)).toEqual([`ignored document: ${repo.dir}/${BOMB_FINDING}`]);
  });
});
