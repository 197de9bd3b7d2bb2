/**
 * Round trips, as child processes: `get tasks X -o yaml > f.yaml && provisio validate f.yaml`, and
 * `provisio export > bundle.yaml` that validates and runs as it is in another directory (test → prod),
 * with no status and no secret in it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { employeeRows, type GitRepo, gitRepo, taskYaml, tempDir } from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli } from '../server/child.js';

const PASSWORD = 's3cret-pa55word';
const secretEnv = {
  PROVISIO_SECRET_HR_API_CREDENTIALS_USERNAME: 'loader',
  PROVISIO_SECRET_HR_API_CREDENTIALS_PASSWORD: PASSWORD,
};
const connector = (baseUrl: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api, namespace: iga, labels: {team: hr}}
spec:
  type: rest
  rest:
    baseUrl: ${baseUrl}
    auth: {type: basic, secretRef: {name: hr-api-credentials}}
    pagination: {type: pageIncrement, pageSize: 10}
`;

let api: RestFixtureServer;
let repo: GitRepo;
const temps: Array<{ dir: string; cleanup(): void }> = [];
const temp = () => {
  const t = tempDir('provisio-export-');
  temps.push(t);
  return t.dir;
};
let state: string;
let head: string;

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.auth = { type: 'basic', username: 'loader', password: PASSWORD };
  api.collection('/employees', employeeRows(3), { paging: 'page' });
  repo = gitRepo();
  repo.write('hr-api.yaml', connector(api.url));
  repo.write(
    'hr-employees.yaml',
    taskYaml({ annotations: { 'provisio.dev/requestedAt': '2026-12-01T00:00:00Z', 'example.com/owner': 'hr-team' } }),
  );
  repo.write('other.yaml', taskYaml({ name: 'elsewhere', namespace: 'other', connector: 'hr-api' }));
  head = repo.commit();
  state = temp();
  const run = await cli(['run', '--dir', repo.dir, '--state-dir', state, '--once'], { env: secretEnv });
  expect(run.code, run.stdout + run.stderr).toBe(0);
});
afterAll(async () => {
  await api.close();
  repo.cleanup();
  for (const t of temps) t.cleanup();
});

describe('get -o yaml', () => {
  it('prints the object as kubectl does, provenance under metadata.annotations, and it validates', async () => {
    const r = await cli([
      'get',
      'tasks',
      'hr-employees',
      '-n',
      'iga',
      '--dir',
      repo.dir,
      '--state-dir',
      state,
      '-o',
      'yaml',
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const obj = parse(r.stdout) as Record<string, Record<string, unknown>>;
    expect(Object.keys(obj)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect(obj.metadata).toEqual({
      name: 'hr-employees',
      namespace: 'iga',
      generation: 1,
      annotations: {
        'provisio.dev/requestedAt': '2026-12-01T00:00:00Z',
        'example.com/owner': 'hr-team',
        'provisio.dev/source': `${join(repo.dir, 'hr-employees.yaml')}:1`,
        'provisio.dev/revision': head,
      },
    });
    expect(obj.status).toMatchObject({ phase: 'Idle', lastRun: { load: { status: 'Succeeded', created: 3 } } });

    const file = join(temp(), 'f.yaml');
    writeFileSync(file, r.stdout);
    const v = await cli(['validate', file]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(
      new RegExp(
        `^${file}:14:11  spec.connectorRef.name  warning: Connector "hr-api" is not in these files: it must exist in namespace "iga" where this Task is applied\n` +
          '1 resources in 1 files: 0 errors, 1 warnings \\(\\d+ ms\\)\n$',
      ),
    );
  });

  it('still refuses a missing connector when the files hold connectors (a typo)', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'all.yaml'), `${connector(api.url)}---\n${taskYaml({ connector: 'hr-apj' })}`);
    const v = await cli(['validate', dir]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('Connector "hr-apj" not found in namespace "iga" (did you mean "hr-api"?)');
  });
});

describe('export', () => {
  it('writes a bundle of one namespace without status, local annotations or secrets, that validates and runs as is', async () => {
    const r = await cli(['export', '--dir', repo.dir, '--state-dir', state, '-n', 'iga'], { env: secretEnv });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.stdout).not.toMatch(/^status:/m);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, Record<string, unknown>>);
    expect(docs.map((d) => [d.kind, d.metadata])).toEqual([
      ['Connector', { name: 'hr-api', namespace: 'iga', labels: { team: 'hr' } }],
      ['Task', { name: 'hr-employees', namespace: 'iga', annotations: { 'example.com/owner': 'hr-team' } }],
    ]);
    expect(docs.map((d) => Object.keys(d))).toEqual([
      ['apiVersion', 'kind', 'metadata', 'spec'],
      ['apiVersion', 'kind', 'metadata', 'spec'],
    ]);

    // "prod": another directory and another state dir, the bundle as it is.
    const prod = temp();
    writeFileSync(join(prod, 'bundle.yaml'), r.stdout);
    const v = await cli(['validate', join(prod, 'bundle.yaml')], { env: secretEnv });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^2 resources in 1 files: 0 errors, 0 warnings \(\d+ ms\)\n$/);
    const run = await cli(['run', '--dir', prod, '--state-dir', temp(), '--once'], { env: secretEnv });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[1].split(/ {3,}/)).toEqual([
      'iga/hr-employees',
      'Succeeded',
      '3',
      'Succeeded',
      '3',
      '0',
      '0',
      '0',
      '0',
    ]);
  });

  it('exports every namespace with -A, and leaves out a resource that does not validate (exit 1)', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'hr-api.yaml'), connector(api.url));
    writeFileSync(join(dir, 'good.yaml'), taskYaml());
    writeFileSync(join(dir, 'bad.yaml'), taskYaml({ name: 'hr-bad', maxFraction: 2 }));
    const r = await cli(['export', '--dir', dir, '--state-dir', temp(), '-A']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'left out Task iga/hr-bad: it does not validate\n' +
        `  ${join(dir, 'bad.yaml')}:24:27  spec.deletion.maxFraction  must be <= 1, not 2\n`,
    );
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Connector/hr-api', 'Task/hr-employees']);
  });
});
