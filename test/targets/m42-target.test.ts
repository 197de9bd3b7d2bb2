/**
 * The m42 target end to end: the engine loads a REST source into the simulated home solution
 * (test/peers/m42-api) over HTTPS with a throwaway CA, through the real client (undici), with the
 * connector's WebAPI user. What an admin relies on: the first load creates one card per record in bulk,
 * an unchanged rerun writes nothing, changes and vanished attributes land, deletions are marked and
 * restored through EQL, refused cards are reported by key with the API's words, a bad mapping fails the run
 * before anything is read, and the password never shows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { builtInConnectorTypes } from '../../src/connectors/registry.js';
import { type EngineDeps, runTask } from '../../src/engine/run-task.js';
import type { Connector, Task } from '../../src/model/resources.js';
import { LocalSecretResolver } from '../../src/secrets/resolver.js';
import { SqliteTaskCache } from '../../src/state/sqlite/sqlite-task-cache.js';
import { M42Targets } from '../../src/targets/m42/m42-targets.js';
import { restConnector } from '../engine/helpers.js';
import { captureLogger } from '../peers/log-capture.js';
import { type M42Api, startM42Api, type TemplateConfig } from '../peers/m42-api/index.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { createTestPki, type TestPki } from '../peers/tls.js';

const PASSWORD = 'w3bapi-Pa55-7c1e';
let pki: TestPki;
let api: M42Api;
let source: RestFixtureServer;
let dir: string;
let caFile: string;
const logs = captureLogger('debug');

const people = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => ({
    id: `P${String(from + i).padStart(5, '0')}`,
    name: `Person ${from + i}`,
    dept: 'Sales',
    level: 'Senior',
  }));

const templates = (): TemplateConfig[] => [
  {
    code: 'person',
    folders: [{ code: 'people' }, { code: 'archive' }],
    attributes: {
      person_id: { type: 'string' as const, unique: true },
      name: { type: 'string' as const },
      department: { type: 'string' as const },
      level: {
        type: 'static-value' as const,
        values: [
          { code: 'jr', value: 'Junior' },
          { code: 'sr', value: 'Senior' },
        ],
      },
      task_id: { type: 'string' as const },
      source_type: { type: 'string' as const },
      status: { type: 'string' as const },
    },
  },
  { code: 'failure', folders: [{ code: 'failures' }], attributes: { message: { type: 'string' as const } } },
];

const connector = (): Connector => ({
  ...restConnector(source.url, 100),
  spec: { ...restConnector(source.url, 100).spec, webApi: { secretRef: { name: 'loader' } } },
});

const task = (overrides: Partial<Task['spec']['mappings']> = {}): Task => ({
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'people', namespace: 'iga' },
  spec: {
    connectorRef: { name: 'hr-api' },
    usage: 'scheduled',
    mappingsType: 'generic',
    schedule: { interval: '1h' },
    source: { rest: { query: '/people', safetyThreshold: 1000 } },
    mappings: {
      generic: {
        template: 'person',
        folder: 'people',
        taskIdAttribute: 'task_id',
        dataSourceTypeAttribute: 'source_type',
        onDeleted: { attribute: 'status', value: 'Deleted', restoreValue: 'Active' },
        attributes: [
          { external: 'id', local: 'person_id', unique: true },
          { external: 'name', local: 'name' },
          { external: 'dept', local: 'department' },
          { external: 'level', local: 'level' },
        ],
      },
      ...overrides,
    },
    deletion: { maxFraction: 0.5 },
    failure: { template: 'failure', folder: 'failures', attribute: 'message' },
  },
});

let targets: M42Targets;
let cache: SqliteTaskCache;
let deps: EngineDeps;
let runNo = 0;

beforeAll(async () => {
  pki = await createTestPki();
  dir = mkdtempSync(join(tmpdir(), 'provisio-m42-target-'));
  caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, pki.caCert);
  api = await startM42Api({
    tls: { cert: pki.serverCert, key: pki.serverKey },
    users: [{ login: 'svc-loader', password: PASSWORD }],
    templates: templates(),
  });
  source = await RestFixtureServer.start();
});

afterAll(async () => {
  await api.stop();
  await source.close();
  await pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  api.reset();
  source.reset();
  logs.clear();
  cache?.close();
  void targets?.close();
  const stateDir = mkdtempSync(join(dir, 'state-'));
  cache = new SqliteTaskCache(join(stateDir, 'state.db'));
  const secrets = new LocalSecretResolver(undefined, {
    PROVISIO_SECRET_LOADER_USERNAME: 'svc-loader',
    PROVISIO_SECRET_LOADER_PASSWORD: PASSWORD,
  });
  targets = new M42Targets({ url: api.url, caFile, secrets, log: logs.log, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  deps = {
    targets,
    connectorTypes: builtInConnectorTypes,
    cache,
    secrets,
    log: logs.log,
    artifactsRoot: join(stateDir, 'artifacts'),
    batchSize: 500,
  };
});

const run = (t: Task = task()) =>
  runTask(deps, {
    task: t,
    connector: connector(),
    runId: `run-${++runNo}`,
    trigger: 'manual',
    plannedTime: new Date(),
    signal: new AbortController().signal,
  });

/** The person cards in the simulator, by person_id, as plain values. */
function stored(): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const card of api.cards('person')) {
    const plain: Record<string, unknown> = { dataCardId: card.dataCardId, folderCode: card.folderCode };
    for (const [code, attr] of Object.entries(card.data ?? {})) {
      const values = (attr as { values: Array<Record<string, unknown>> }).values;
      plain[code] = values.length === 0 ? null : values[0].value;
    }
    out.set(String(plain.person_id), plain);
  }
  return out;
}

describe('the m42 target', () => {
  it('first load: one card per record, in bulk PUTs of 200, stamped with the task id', async () => {
    source.collection('/people', people(450), { paging: 'page' });
    const r = await run();
    expect(r.reason).toBe('Succeeded');
    expect(r.load).toMatchObject({ created: 450, updated: 0, failed: 0 });
    const cards = stored();
    expect(cards.size).toBe(450);
    expect(cards.get('P00007')).toMatchObject({
      name: 'Person 7',
      department: 'Sales',
      level: 'Senior',
      task_id: 'iga/people',
      source_type: 'rest',
      folderCode: 'people',
    });
    // 450 cards: 3 bulk PUTs (200 + 200 + 50); one lookup page answers a template this small.
    expect(api.counts().bulkPut).toBe(3);
    expect(api.counts().login).toBe(1);
  });

  it('an unchanged rerun writes nothing; changes, vanished attributes and deletions land', async () => {
    source.collection('/people', people(300), { paging: 'page' });
    await run();
    const before = api.counts();
    const again = await run();
    expect(again.load).toMatchObject({ created: 0, updated: 0, unchanged: 300 });
    expect(api.counts().bulkPut).toBe(before.bulkPut);

    const rows = people(300);
    rows[4].name = 'Renamed';
    delete (rows[5] as { dept?: string }).dept;
    source.collection('/people', rows.slice(0, 290), { paging: 'page' });
    const changed = await run();
    expect(changed.reason).toBe('Succeeded');
    expect(changed.load).toMatchObject({ created: 0, updated: 2, deleted: 10 });
    const cards = stored();
    expect(cards.size).toBe(300);
    expect(cards.get('P00005')?.name).toBe('Renamed');
    expect(cards.get('P00006')?.department).toBeNull();
    expect(cards.get('P00295')?.status).toBe('Deleted');
    expect(cards.get('P00001')?.status).toBeNull();

    // Back in the source: restored (onDeleted.restoreValue), not created again.
    source.collection('/people', rows, { paging: 'page' });
    const back = await run();
    expect(back.load).toMatchObject({ created: 0, restored: 10 });
    expect(stored().get('P00295')?.status).toBe('Active');
    expect(stored().size).toBe(300);
  });

  it('a card the API refuses is reported by key with its message; the others load', async () => {
    const rows = people(20);
    rows[3].level = 'Principal';
    source.collection('/people', rows, { paging: 'page' });
    const r = await run();
    expect(r.reason).toBe('LoadFailed');
    expect(r.load).toMatchObject({ created: 19, failed: 1 });
    expect(JSON.stringify(r)).toContain('person_id=P00004');
    expect(JSON.stringify(r)).toContain("Couldn't find static-value with value: Principal");
    expect(stored().size).toBe(19);
  });

  it('a mapping the template cannot take fails the run before anything is extracted', async () => {
    source.collection('/people', people(5), { paging: 'page' });
    const t = task();
    t.spec.mappings!.generic!.attributes.push({ external: 'id', local: 'employee_number' });
    const r = await run(t);
    expect(r.reason).toBe('TargetCheckFailed');
    expect(r.extract?.info).toContain(
      'spec.mappings.generic.attributes[4].local: template "person" has no attribute "employee_number"',
    );
    expect(source.calls('/people')).toHaveLength(0);
    expect(stored().size).toBe(0);
  });

  it('a folder the template does not allow fails the run before anything is extracted', async () => {
    source.collection('/people', people(5), { paging: 'page' });
    const t = task();
    t.spec.mappings!.generic!.folder = 'nowhere';
    const r = await run(t);
    expect(r.reason).toBe('TargetCheckFailed');
    expect(r.extract?.info).toContain(
      'folder "nowhere" is not allowed for template "person" (allowed: people, archive)',
    );
  });

  it('a failed extract writes the failure card and marks nothing deleted', async () => {
    source.collection('/people', people(50), { paging: 'page' });
    await run();
    source.fault('/people', { kind: 'status', status: 400, body: '{"error":"the source broke"}' });
    const r = await run();
    expect(r.reason).toBe('ExtractFailed');
    const failures = api.cards('failure');
    expect(failures).toHaveLength(1);
    expect(JSON.stringify(failures[0].data)).toContain('Task iga/people run');
    expect([...stored().values()].filter((c) => c.status === 'Deleted')).toHaveLength(0);
  });

  it('renews an expired token once, waits out a 429, and never shows the password', async () => {
    source.collection('/people', people(30), { paging: 'page' });
    await run();
    api.expireTokens();
    api.fault({ method: 'PUT', status: 429, retryAfter: 0, times: 1 });
    const rows = people(30);
    rows[0].name = 'Changed after expiry';
    source.collection('/people', rows, { paging: 'page' });
    const r = await run();
    expect(r.reason).toBe('Succeeded');
    expect(r.load?.updated).toBe(1);
    expect(api.counts().login).toBe(2);
    expect(stored().get('P00001')?.name).toBe('Changed after expiry');
    expect(logs.text()).not.toContain(PASSWORD);
    expect(JSON.stringify(r)).not.toContain(PASSWORD);
  });

  it('a bulk PUT whose answer is lost is looked up again, never created twice', async () => {
    source.collection('/people', people(120), { paging: 'page' });
    // The API carries out the PUT, then the answer is a 502 (a proxy gave up waiting).
    api.fault({ method: 'PUT', status: 502, after: true, times: 1 });
    const r = await run();
    expect(r.reason).toBe('Succeeded');
    expect(stored().size).toBe(120);
    expect(api.cards('person')).toHaveLength(120);
    expect(r.load).toMatchObject({ failed: 0 });
    expect((r.load?.created ?? 0) + (r.load?.updated ?? 0)).toBe(120);
  });

  it('a wrong WebAPI password fails the run naming the user, not the password', async () => {
    source.collection('/people', people(3), { paging: 'page' });
    const wrong = new M42Targets({
      url: api.url,
      caFile,
      secrets: new LocalSecretResolver(undefined, {
        PROVISIO_SECRET_LOADER_USERNAME: 'svc-loader',
        PROVISIO_SECRET_LOADER_PASSWORD: 'not-the-password',
      }),
      log: logs.log,
    });
    deps.targets = wrong;
    const r = await run();
    await wrong.close();
    expect(r.reason).toBe('TargetCheckFailed');
    expect(r.extract?.info).toContain('refused the login of WebAPI user "svc-loader" (HTTP 401)');
    expect(JSON.stringify(r)).not.toContain('not-the-password');
  });

  it('a connector without spec.webApi fails at the check, saying what is missing', async () => {
    source.collection('/people', people(3), { paging: 'page' });
    const r = await runTask(deps, {
      task: task(),
      connector: restConnector(source.url, 100),
      runId: `run-${++runNo}`,
      trigger: 'manual',
      plannedTime: new Date(),
      signal: new AbortController().signal,
    });
    expect(r.reason).toBe('TargetCheckFailed');
    expect(r.extract?.info).toContain('has no spec.webApi.secretRef');
  });
});
