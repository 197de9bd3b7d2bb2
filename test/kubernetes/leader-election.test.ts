/**
 * High availability: two `provisio run --kubernetes` processes against the fake API server. One holds the
 * leader Lease and schedules; when it dies (kill -9, no chance to release the Lease) the other takes over
 * once the Lease has expired, records the run the dead leader left half-done as failed (interrupted), and
 * acts on the next request. Both processes serve the HTTP endpoint all along.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskStatus } from '../../src/model/resources.js';
import { connectorYaml, employeeRows, eventTaskYaml, taskYaml, tempDir, waitFor } from '../controller/resources.js';
import { type FakeApiServer, startFakeApiServer } from '../peers/kube-apiserver/index.js';
import { freePort } from '../peers/ports.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { createResource } from './cluster-resources.js';

const GROUP = 'provisio.dev';
const VERSION = 'v1alpha1';
const NS = 'iga';
const LEASE = 'provisio-test';

let kube: FakeApiServer;
let api: RestFixtureServer;
let kc: KubeConfig;
let dirs: Array<{ dir: string; cleanup(): void }> = [];
const children: ChildProcess[] = [];

function controller(identity: string, kubeconfig: string, port: number): ChildProcess {
  const state = tempDir();
  dirs.push(state);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'run',
      '--kubernetes',
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      NS,
      '--state-dir',
      state.dir,
      '--listen',
      `127.0.0.1:${port}`,
      '--lease-name',
      LEASE,
      '--lease-namespace',
      NS,
      '--lease-duration',
      '3',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, POD_NAME: identity, PROVISIO_LOG_LEVEL: 'info', PROVISIO_API_TOKENS: 'token-1' },
    },
  );
  children.push(child);
  return child;
}

const exited = (p: ChildProcess) =>
  new Promise<number | null>((resolve) => p.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));

beforeAll(async () => {
  kube = await startFakeApiServer();
  kc = kube.kubeConfig();
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: NS } } })
    .catch(() => {});
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(20), { paging: 'page' });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await api.close();
  await kube.close();
  for (const d of dirs) d.cleanup();
  dirs = [];
});

describe('leader election between two controller processes', () => {
  it('fails over to the standby, which records the interrupted run and takes the next request', async () => {
    const crs = kc.makeApiClient(CustomObjectsApi);
    const leases = kc.makeApiClient(CoordinationV1Api);
    const kubeconfig = join(tempDir('provisio-kubeconfig-').dir, 'config');
    writeFileSync(kubeconfig, kc.exportConfig());
    for (const y of [connectorYaml({ baseUrl: api.url }), taskYaml(), eventTaskYaml()]) await createResource(kc, NS, y);
    const getTask = async () =>
      (
        (await crs.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: 'tasks',
          name: 'hr-employees',
        })) as {
          status?: TaskStatus;
        }
      ).status ?? {};
    const annotate = (at: string) =>
      crs.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: 'tasks',
          name: 'hr-employees',
          body: { metadata: { annotations: { 'provisio.dev/requestedAt': at } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const holder = async () => (await leases.readNamespacedLease({ name: LEASE, namespace: NS })).spec;

    const [portA, portB] = [await freePort(), await freePort()];
    const a = controller('replica-a', kubeconfig, portA);
    await waitFor(
      'replica-a leads',
      async () => (await holder().catch(() => undefined))?.holderIdentity === 'replica-a',
      20_000,
    );
    const b = controller('replica-b', kubeconfig, portB);
    // The standby serves HTTP too.
    await waitFor(
      'replica-b ready',
      async () => (await fetch(`http://127.0.0.1:${portB}/readyz`).catch(() => undefined))?.status === 200,
      20_000,
    );
    expect((await holder())?.holderIdentity).toBe('replica-a');
    // ...and its event endpoint: event tasks are invoked on any replica.
    api.route('GET', '/employees/:id', (_req, p) => ({ json: { id: p.id } }));
    const invoked = await fetch(`http://127.0.0.1:${portB}/api/v1/namespaces/${NS}/tasks/hr-update/invoke`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-1', 'content-type': 'application/json' },
      body: JSON.stringify({ activity: 'restCall', input: { method: 'GET', url: '/$id$' }, data: { id: 'E7' } }),
    });
    expect(invoked.status).toBe(200);
    expect(await invoked.json()).toMatchObject({ state: 'Completed', statusCode: 200, response: { id: 'E7' } });

    // A run that is certainly in progress when the leader dies: every page is slow.
    api.fault(
      (r) => r.path === '/employees',
      ...Array.from({ length: 50 }, () => ({ kind: 'delay' as const, ms: 400 })),
    );
    await annotate('run-1');
    await waitFor(
      'run-1 running on replica-a',
      async () => (await getTask()).lastRun?.extract?.status === 'Running',
      20_000,
    );
    a.kill('SIGKILL');
    expect(await exited(a)).toBe(-1);

    const lease = await waitFor(
      'replica-b takes over',
      async () => {
        const spec = await holder();
        return spec?.holderIdentity === 'replica-b' ? spec : undefined;
      },
      20_000,
    );
    expect(lease.leaseTransitions).toBe(1);
    expect(lease.leaseDurationSeconds).toBe(3);

    const recovered = await waitFor(
      'the interrupted run recorded as failed',
      async () => {
        const s = await getTask();
        return s.history?.[0]?.extract?.status === 'Failed' ? s : undefined;
      },
      20_000,
    );
    expect(recovered.history?.[0]?.extract?.info).toMatch(
      /^interrupted: the controller stopped during this run; it runs again at its next schedule/,
    );

    api.reset();
    api.collection('/employees', employeeRows(20), { paging: 'page' });
    await annotate('run-2');
    const done = await waitFor(
      'run-2 on replica-b',
      async () => {
        const s = await getTask();
        return s.lastHandledReconcileAt === 'run-2' && s.lastRun?.load?.status === 'Succeeded' ? s : undefined;
      },
      20_000,
    );
    expect(done.lastRun?.extract?.records).toBe(20);
    b.kill('SIGTERM');
    expect(await exited(b)).toBe(0);
    // A graceful stop hands the Lease back, so a new pod need not wait for it to expire.
    expect((await holder())?.holderIdentity).toBeUndefined();
  }, 90_000);
});
