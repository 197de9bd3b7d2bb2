/**
 * `provisio test-connection CONNECTOR` (DESIGN §3) as a child process: from a resource directory with a
 * secrets directory, and against a running controller, which also keeps the answer in status.connection.
 * The upstream is the REST fixture server with basic auth; the password never appears in what is printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorYaml, type GitRepo, gitRepo, tempDir } from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli, type RunningController, startRun } from '../server/child.js';

const PASSWORD = 'b4sic-pa55word';
let api: RestFixtureServer;
let repo: GitRepo;
let secrets: { dir: string; cleanup(): void };

const withBasicAuth = (yaml: string) =>
  yaml.replace('auth: {type: none}', 'auth: {type: basic, secretRef: {name: hr-api-credentials}}');

function writeSecret(password: string): void {
  mkdirSync(join(secrets.dir, 'hr-api-credentials'), { recursive: true });
  writeFileSync(join(secrets.dir, 'hr-api-credentials', 'username'), 'svc-provisio');
  writeFileSync(join(secrets.dir, 'hr-api-credentials', 'password'), password);
}

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.auth = { type: 'basic', username: 'svc-provisio', password: PASSWORD };
  api.route('GET', '/', () => ({ json: { status: 'up' } }));
  repo = gitRepo();
  repo.write('hr-api.yaml', withBasicAuth(connectorYaml({ baseUrl: api.url })));
  repo.write('down.yaml', connectorYaml({ name: 'down-api', baseUrl: 'http://127.0.0.1:1' }));
  repo.commit();
  secrets = tempDir();
});
afterAll(async () => {
  await api.close();
  repo.cleanup();
  secrets.cleanup();
});

describe('test-connection --dir', () => {
  it('exits 0 and says what the system answered when the credentials work', async () => {
    writeSecret(PASSWORD);
    const r = await cli(['test-connection', 'iga/hr-api', '--dir', repo.dir, '--secrets-dir', secrets.dir]);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: 'Connector iga/hr-api: ok: GET / answered HTTP 200 OK\n' });
  });

  it('exits 1 and names the fix when the credentials are refused, never printing them', async () => {
    writeSecret('wrong-password');
    const r = await cli(['test-connection', 'hr-api', '-n', 'iga', '--dir', repo.dir, '--secrets-dir', secrets.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'Connector iga/hr-api: failed: GET / answered HTTP 401 Unauthorized: check spec.rest.auth and its secret\n',
    );
    expect(r.stdout + r.stderr).not.toContain('wrong-password');
  });

  it('exits 1 when nothing listens, with the connection error', async () => {
    const r = await cli(['test-connection', 'iga/down-api', '--dir', repo.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Connector iga\/down-api: failed: .*ECONNREFUSED/);
  });

  it('exits 1 naming the connector that does not exist', async () => {
    const r = await cli(['test-connection', 'iga/nope', '--dir', repo.dir]);
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: Connector "nope" not found in namespace "iga"\n',
    });
  });
});

describe('test-connection --server', () => {
  let ctl: RunningController;
  let state: { dir: string; cleanup(): void };
  beforeAll(async () => {
    writeSecret(PASSWORD);
    state = tempDir();
    ctl = await startRun(['--dir', repo.dir, '--state-dir', state.dir, '--secrets-dir', secrets.dir], {
      PROVISIO_API_TOKENS: 'tok1',
    });
  });
  afterAll(async () => {
    await ctl?.stop('SIGKILL');
    state.cleanup();
  });

  it('runs the check in the controller and keeps the answer in the connector status', async () => {
    const r = await cli(['test-connection', 'iga/hr-api', '--server', ctl.url], {
      env: { PROVISIO_API_TOKEN: 'tok1' },
    });
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: 'Connector iga/hr-api: ok: GET / answered HTTP 200 OK\n' });
    const view = (await (await fetch(`${ctl.url}/api/v1/namespaces/iga/connectors/hr-api`)).json()) as {
      status: { connection: { ok: boolean; message: string; checkedAt: string } };
    };
    expect(view.status.connection).toMatchObject({ ok: true, message: 'GET / answered HTTP 200 OK' });
    expect(Date.parse(view.status.connection.checkedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('needs a token, like every operation', async () => {
    const r = await cli(['test-connection', 'iga/hr-api', '--server', ctl.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: controller answered 401: .* \(set PROVISIO_API_TOKEN to one of the controller's API tokens\)\n$/,
    );
  });
});
