/**
 * Kubernetes mode end to end, in-process: the controller as `provisio run --kubernetes` builds it, against the
 * fake API server over HTTP (driven by the real @kubernetes/client-node), with the REST fixture as the source.
 * Resources are created the way kubectl creates them; everything asserted is read back from the API server.
 */
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Runtime, startRuntime } from '../../src/controller/runtime.js';
import { createLogger, silentLogger } from '../../src/log/logger.js';
import type { Condition, Task, TaskStatus } from '../../src/model/resources.js';
import { LocalTarget } from '../../src/targets/local/local-target.js';
import type { Card } from '../../src/targets/types.js';
import { connectorYaml, employeeRows, taskYaml, tempDir, waitFor } from '../controller/resources.js';
import { type FakeApiServer, startFakeApiServer } from '../peers/kube-apiserver/index.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { createResource } from './cluster-resources.js';

const GROUP = 'provisio.dev';
const VERSION = 'v1alpha1';
const NS = 'iga';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface TaskObject {
  metadata: { name: string; generation?: number; annotations?: Record<string, string> };
  status?: TaskStatus;
}

let kube: FakeApiServer;
let api: RestFixtureServer;
let kc: KubeConfig;
let crs: CustomObjectsApi;
let core: CoreV1Api;
let state: { dir: string; cleanup(): void };
let runtime: Runtime | undefined;

const ref = (plural: 'connectors' | 'tasks', name: string) => ({
  group: GROUP,
  version: VERSION,
  namespace: NS,
  plural,
  name,
});

const create = (resource: string | object) => createResource(kc, NS, resource);

const getTask = async (name = 'hr-employees') =>
  (await crs.getNamespacedCustomObject(ref('tasks', name))) as TaskObject;

const patchTask = (name: string, body: object) =>
  crs.patchNamespacedCustomObject({ ...ref('tasks', name), body }, MERGE);

/** Conditions without their timestamps. */
const conditions = (list: Condition[] | undefined) => (list ?? []).map(({ lastTransitionTime: _t, ...c }) => c);

async function start(): Promise<Runtime> {
  runtime = await startRuntime({
    kubernetes: { kubeConfig: kc, namespaces: [NS] },
    stateDir: state.dir,
    log: process.env.DBG ? createLogger({ level: 'debug' }) : silentLogger,
    watch: true,
  });
  return runtime;
}

async function cards(): Promise<Card[]> {
  const target = new LocalTarget(join(state.dir, 'cards.db'));
  const out: Card[] = [];
  for await (const c of target.list('employee')) out.push(c);
  await target.close();
  return out;
}

const statusPatches = () => kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/status')).length;

beforeAll(async () => {
  kube = await startFakeApiServer();
  kc = kube.kubeConfig();
  crs = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } }).catch(() => {});
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
});
afterAll(async () => {
  await api.close();
  await kube.close();
});
beforeEach(() => {
  state = tempDir();
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  for (const plural of ['tasks', 'connectors'] as const) {
    const list = (await crs.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural })) as {
      items: Array<{ metadata: { name: string } }>;
    };
    for (const o of list.items) await crs.deleteNamespacedCustomObject(ref(plural, o.metadata.name));
  }
  state.cleanup();
});

describe('provisio run --kubernetes', () => {
  it('runs a Task applied to the cluster when annotated, and writes status and Events back', async () => {
    await create(connectorYaml({ baseUrl: api.url }));
    await create(taskYaml());
    await start();

    const scheduled = await waitFor('status Ready/Scheduled', async () => {
      const t = await getTask();
      return t.status?.observedGeneration === 1 && t.status.conditions?.length ? t : undefined;
    });
    expect(scheduled.metadata.generation).toBe(1);
    expect(conditions(scheduled.status?.conditions)).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Scheduled',
        message: `waiting for the first run at ${scheduled.status?.nextRunTime}`,
        observedGeneration: 1,
      },
    ]);

    // Run now, as `provisio trigger --kubernetes` and `kubectl annotate` do.
    const requestedAt = '2026-11-23T12:00:00Z';
    await patchTask('hr-employees', { metadata: { annotations: { 'provisio.dev/requestedAt': requestedAt } } });
    const ran = await waitFor('the requested run to finish', async () => {
      const t = await getTask();
      // The run is finished once it is in the history: load status is written as progress before that.
      const finished = t.status?.history?.some((h) => h.id === t.status?.lastRun?.id) ?? false;
      return t.status?.lastHandledReconcileAt === requestedAt &&
        t.status.lastRun?.load?.status === 'Succeeded' &&
        finished
        ? t
        : undefined;
    });
    expect(ran.status?.lastRun?.trigger).toBe('manual');
    expect(ran.status?.lastRun?.extract).toMatchObject({ status: 'Succeeded', records: 3 });
    expect(ran.status?.lastRun?.load).toMatchObject({ status: 'Succeeded', created: 3, updated: 0, deleted: 0 });
    expect(ran.status?.history?.map((h) => h.id)).toEqual([ran.status?.lastRun?.id]);
    // An annotation is metadata: the generation, and so observedGeneration, stay 1.
    expect(ran.metadata.generation).toBe(1);
    await waitFor('Ready/Succeeded', async () => {
      const c = (await getTask()).status?.conditions?.find((x) => x.type === 'Ready');
      return c?.reason === 'Succeeded' && c.status === 'True';
    });
    expect((await cards()).map((c) => c.employee_id).sort()).toEqual(['E1', 'E2', 'E3']);

    const events = await waitFor('run events', async () => {
      const list = await core.listNamespacedEvent({ namespace: NS });
      const mine = list.items.filter((e) => e.involvedObject.name === 'hr-employees');
      return mine.length >= 2 ? mine : undefined;
    });
    // Listed by name, which generateName makes random: order by reason.
    events.sort((x, y) => String(x.reason).localeCompare(String(y.reason)));
    expect(events.map((e) => [e.type, e.reason, e.involvedObject.kind])).toEqual([
      ['Normal', 'RunStarted', 'Task'],
      ['Normal', 'Succeeded', 'Task'],
    ]);
    expect(events[0].message).toBe(`run ${ran.status?.lastRun?.id} started (manual)`);
    expect(events[1].message).toBe(
      `run ${ran.status?.lastRun?.id}: 3 records read; 3 cards created, 0 updated, 0 unchanged, 0 marked deleted`,
    );

    const connector = (await crs.getNamespacedCustomObject(ref('connectors', 'hr-api'))) as {
      status?: { health?: string; scheduledTasks?: number; conditions?: Condition[] };
    };
    await waitFor('connector health', async () => {
      const c = (await crs.getNamespacedCustomObject(ref('connectors', 'hr-api'))) as typeof connector;
      return c.status?.health === 'Healthy';
    });
  });

  it('records a failed run as Ready=False ExtractFailed and a Warning Event with the reason', async () => {
    api.route('GET', '/broken', () => ({ json: { errors: 'HR database is down', resultset: [] } }));
    await create(connectorYaml({ baseUrl: api.url }));
    await create(taskYaml({ name: 'hr-broken', query: '/broken', annotations: { 'provisio.dev/requestedAt': 'now' } }));
    await start();
    const t = await waitFor('the failed run', async () => {
      const o = await getTask('hr-broken');
      return o.status?.lastRun?.extract?.status === 'Failed' && o.status.phase === 'Idle' ? o : undefined;
    });
    const info = t.status?.lastRun?.extract?.info;
    expect(info).toContain('HR database is down');
    await waitFor('Ready=False ExtractFailed', async () => {
      const c = (await getTask('hr-broken')).status?.conditions?.find((x) => x.type === 'Ready');
      return c?.status === 'False' && c.reason === 'ExtractFailed';
    });
    const warning = await waitFor('the Warning event', async () => {
      const list = await core.listNamespacedEvent({ namespace: NS });
      return list.items.find((e) => e.involvedObject.name === 'hr-broken' && e.type === 'Warning');
    });
    expect(warning.reason).toBe('ExtractFailed');
    expect(warning.message).toBe(`run ${t.status?.lastRun?.id}: ${info}`);
  });

  it('marks a Task whose connector does not exist Stalled, and follows spec changes with observedGeneration', async () => {
    await create(taskYaml({ connector: 'hr-apii' }));
    await start();
    const stalled = await waitFor('Stalled', async () => {
      const t = await getTask();
      return t.status?.conditions?.some((c) => c.type === 'Stalled') ? t : undefined;
    });
    const byType = Object.fromEntries(conditions(stalled.status?.conditions).map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({ status: 'False', reason: 'ConnectorNotReady' });
    expect(byType.Stalled).toMatchObject({ status: 'True', reason: 'ConnectorNotReady' });
    expect(byType.Stalled.message).toContain('hr-apii');

    await create(connectorYaml({ baseUrl: api.url }));
    await patchTask('hr-employees', { spec: { connectorRef: { name: 'hr-api' } } });
    const fixed = await waitFor('Ready after the fix', async () => {
      const t = await getTask();
      return t.status?.observedGeneration === 2 && t.status.conditions?.[0]?.status === 'True' ? t : undefined;
    });
    expect(fixed.metadata.generation).toBe(2);
    expect(fixed.status?.conditions?.map((c) => c.type)).toEqual(['Ready']);
  });

  it('marks a Task with an invalid mapping path Stalled with SchemaInvalid, naming the field', async () => {
    await create(connectorYaml({ baseUrl: api.url }));
    const task = parse(taskYaml()) as { spec: { mappings: { generic: { attributes: Array<{ external: string }> } } } };
    task.spec.mappings.generic.attributes[1].external = '$.name';
    await create(task);
    await start();
    const t = await waitFor('Stalled', async () => {
      const o = await getTask();
      return o.status?.conditions?.some((c) => c.type === 'Stalled') ? o : undefined;
    });
    const stalled = t.status?.conditions?.find((c) => c.type === 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'SchemaInvalid' });
    expect(stalled?.message).toMatch(/^spec\.mappings\.generic\.attributes\[1\]\.external {2}/);
    expect(t.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'SchemaInvalid',
    });
  });

  it('retries status writes the API server refuses for a while (409, 500, 429)', async () => {
    await create(connectorYaml({ baseUrl: api.url }));
    await create(taskYaml());
    const statusPath = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/tasks/hr-employees/status`;
    kube.clearRequests();
    kube.fault({ method: 'PATCH', path: statusPath, status: 409 });
    kube.fault({ method: 'PATCH', path: statusPath, status: 500 });
    kube.fault({ method: 'PATCH', path: statusPath, status: 429, retryAfterSeconds: 1 });
    await start();
    const t = await waitFor(
      'status written in the end',
      async () => {
        const o = await getTask();
        return o.status?.observedGeneration === 1 ? o : undefined;
      },
      15_000,
    );
    expect(t.status?.conditions?.[0]).toMatchObject({ type: 'Ready', reason: 'Scheduled' });
    const answers = kube.requests.filter((r) => r.method === 'PATCH' && r.path === statusPath).map((r) => r.status);
    expect(answers.slice(0, 4)).toEqual([409, 500, 429, 200]);
  });

  it('clears the task cache of a replica when the task last ran elsewhere', async () => {
    await create(connectorYaml({ baseUrl: api.url }));
    await create(taskYaml());
    const runTo = async (at: string) => {
      await patchTask('hr-employees', { metadata: { annotations: { 'provisio.dev/requestedAt': at } } });
      return waitFor(`run ${at}`, async () => {
        const t = await getTask();
        return t.status?.lastHandledReconcileAt === at &&
          t.status.lastRun?.load?.status === 'Succeeded' &&
          t.status.phase === 'Idle'
          ? t.status.lastRun
          : undefined;
      });
    };
    await start();
    expect((await runTo('r1')).load).toMatchObject({ created: 3, unchanged: 0 });
    expect((await runTo('r2')).load).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    await runtime?.close();
    runtime = undefined;

    // Meanwhile another replica ran the task: status says so.
    const other = structuredClone((await getTask()).status!);
    other.lastRun = { ...other.lastRun, id: '20261123120000000-other' };
    await crs.patchNamespacedCustomObjectStatus({ ...ref('tasks', 'hr-employees'), body: { status: other } }, MERGE);

    await start();
    const r3 = await runTo('r3');
    expect(r3.load?.unchanged).toBe(0);
    expect((r3.load?.created ?? 0) + (r3.load?.updated ?? 0)).toBe(3);
    expect((await getTask()).status?.cache?.clearedAt).toBeDefined();
  });

  it('writes status only when it changed', async () => {
    await create(connectorYaml({ baseUrl: api.url }));
    await create(taskYaml());
    await start();
    await waitFor('first status', async () => (await getTask()).status?.observedGeneration === 1);
    await new Promise((r) => setTimeout(r, 500));
    const before = statusPatches();
    // A label is not something status reflects: reconciled, nothing to write.
    await patchTask('hr-employees', { metadata: { labels: { team: 'iga' } } });
    await new Promise((r) => setTimeout(r, 800));
    expect(statusPatches()).toBe(before);
  });

  it('picks up changes made while its watch was down, and after the watch history expired', async () => {
    await create(connectorYaml({ baseUrl: api.url }));
    await create(taskYaml());
    const rt = await start();
    await waitFor('task in the store', () => rt.store.get('Task', `${NS}/hr-employees`));

    kube.closeWatches();
    await create(taskYaml({ name: 'hr-contractors' }));
    await waitFor('task created while the watch was down', () => rt.store.get('Task', `${NS}/hr-contractors`));
    await waitFor('its status', async () => (await getTask('hr-contractors')).status?.observedGeneration === 1);

    // A connection that breaks (not a clean end): the informer errors and is restarted with backoff.
    kube.closeWatches({ abrupt: true });
    await patchTask('hr-contractors', { spec: { suspend: true } });
    await waitFor(
      'change made after an abrupt disconnect',
      () => rt.store.get<Task>('Task', `${NS}/hr-contractors`)?.effective?.spec.suspend === true,
    );

    kube.compactHistory();
    kube.closeWatches();
    await crs.deleteNamespacedCustomObject(ref('tasks', 'hr-contractors'));
    await waitFor('deletion seen after a re-list', () => !rt.store.get('Task', `${NS}/hr-contractors`));
    expect(rt.store.get('Task', `${NS}/hr-employees`)).toBeDefined();
  });

  it('reads connector credentials from a Kubernetes Secret', async () => {
    api.auth = { type: 'basic', username: 'svc-provisio', password: 'p@ss:w"rd' };
    try {
      await core.createNamespacedSecret({
        namespace: NS,
        body: {
          metadata: { name: 'hr-api-credentials' },
          data: {
            username: Buffer.from('svc-provisio').toString('base64'),
            password: Buffer.from('p@ss:w"rd').toString('base64'),
          },
        },
      });
      const connector = parse(connectorYaml({ baseUrl: api.url })) as { spec: { rest: Record<string, unknown> } };
      connector.spec.rest.auth = { type: 'basic', secretRef: { name: 'hr-api-credentials' } };
      await create(connector);
      await create(taskYaml({ annotations: { 'provisio.dev/requestedAt': 'first' } }));
      await start();
      // The run is final once it is in the history (lastRun also shows it while it runs).
      const t = await waitFor('authenticated run', async () => {
        const o = await getTask();
        return o.status?.history?.[0] ? o : undefined;
      });
      expect(t.status?.history?.[0]?.extract).toMatchObject({ status: 'Succeeded', records: 3 });
    } finally {
      api.auth = undefined;
      await core.deleteNamespacedSecret({ name: 'hr-api-credentials', namespace: NS }).catch(() => {});
    }
  });
});
