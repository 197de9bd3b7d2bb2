/**
 * `--target m42`: a controller killed with SIGKILL in the middle of a load, then run again, leaves every
 * source record as exactly one card in the home solution (the simulated REST API over HTTPS). Also
 * `provisio cards --target m42` reads the cards back through the API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { employees } from '../engine/helpers.js';
import { type M42Api, startM42Api } from '../peers/m42-api/index.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { createTestPki, type TestPki } from '../peers/tls.js';

const ROWS = 600;
const PASSWORD = 'crash-webapi-pw-4d2';
let server: RestFixtureServer;
let api: M42Api;
let pki: TestPki;
let dir: string;

beforeAll(async () => {
  pki = await createTestPki();
  api = await startM42Api({
    tls: { cert: pki.serverCert, key: pki.serverKey },
    users: [{ login: 'svc-loader', password: PASSWORD }],
    templates: [
      {
        code: 'employee',
        folders: [{ code: 'employees' }],
        attributes: {
          employee_id: { type: 'string', unique: true },
          first_name: { type: 'string' },
          task_id: { type: 'string' },
          status: { type: 'string' },
        },
      },
    ],
  });
  server = await RestFixtureServer.start();
  server.collection('/employees', employees(ROWS), { paging: 'page' });
  dir = mkdtempSync(join(tmpdir(), 'provisio-m42-crash-'));
  writeFileSync(join(dir, 'ca.crt'), pki.caCert);
  writeFileSync(
    join(dir, 'hr.yaml'),
    `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api, namespace: iga}
spec:
  type: rest
  webApi: {secretRef: {name: loader}}
  rest: {baseUrl: "${server.url}", pagination: {type: pageIncrement, pageSize: 20}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-employees, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: scheduled
  schedule: {interval: 1h}
  source: {rest: {query: /employees, safetyThreshold: 1000}}
  mappings:
    generic:
      template: employee
      folder: employees
      taskIdAttribute: task_id
      onDeleted: {attribute: status, value: Deleted}
      attributes:
        - {external: id, local: employee_id, unique: true}
        - {external: "name['first-name']", local: first_name}
`,
  );
});

afterAll(async () => {
  await server.close();
  await api.stop();
  await pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  ...process.env,
  PROVISIO_LOG_LEVEL: 'warn',
  PROVISIO_SECRET_LOADER_USERNAME: 'svc-loader',
  PROVISIO_SECRET_LOADER_PASSWORD: PASSWORD,
});
const m42Args = () => ['--target', 'm42', '--target-url', api.url, '--target-ca', join(dir, 'ca.crt')];

function runOnce(): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'run',
      '--dir',
      dir,
      '--state-dir',
      join(dir, 'state'),
      '--once',
      ...m42Args(),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: env() },
  );
}

const exited = (p: ChildProcess) =>
  new Promise<number | null>((resolve) => p.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));

const keys = () =>
  api.cards('employee').map((c) => String((c.data?.employee_id?.values?.[0] as { value?: unknown })?.value));

describe('a crash during a load into the m42 target', () => {
  it('leaves exactly one card per record after a restart', async () => {
    // The pages after the first batch of 500 cards are slow, so the kill comes between the first and the last batch.
    server.fault(
      (r) => r.path === '/employees' && Number(r.query.get('page')) > 25,
      ...Array.from({ length: 10 }, () => ({ kind: 'delay' as const, ms: 1000 })),
    );
    const first = runOnce();
    // The first bulk PUT carried out: the run is in its load, with more batches to come.
    await api.waitForRequest({ kind: 'bulkPut' }, 30_000);
    const loaded = api.cards('employee').length;
    expect(loaded).toBeGreaterThanOrEqual(200);
    expect(loaded).toBeLessThan(ROWS);
    first.kill('SIGKILL');
    await exited(first);

    const second = runOnce();
    let stderr = '';
    second.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    expect(await exited(second)).toBe(0);
    const all = keys();
    expect(all).toHaveLength(ROWS);
    expect(new Set(all).size).toBe(ROWS);
    expect(stderr).not.toContain(PASSWORD);
  }, 60_000);

  it('provisio cards --target m42 lists the cards through the API', async () => {
    // Not spawnSync: the simulator answers from this process.
    const args = ['cards', 'employee', ...m42Args(), '--webapi-secret', 'loader', '-o', 'json', '--limit', '3'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    expect(await exited(child)).toBe(0);
    expect(stderr).toBe('');
    const cards = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(cards).toHaveLength(3);
    expect(cards[0]).toMatchObject({ task_id: 'iga/hr-employees', folderCode: 'employees' });
    expect(String(cards[0].employee_id)).toMatch(/^E\d+$/);
  });
});
