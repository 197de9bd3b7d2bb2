/**
 * The operation verbs against a cluster (`provisio trigger|stop|clear-cache|suspend|resume --kubernetes`), as
 * child processes with a kubeconfig, acting on Tasks in the fake API server that a Kubernetes-mode controller
 * (in-process) reconciles: what the verbs set, and what the controller then reports in status.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../src/controller/runtime.js';
import { silentLogger } from '../../src/log/logger.js';
import type { TaskStatus } from '../../src/model/resources.js';
import { connectorYaml, employeeRows, taskYaml, tempDir, waitFor } from '../controller/resources.js';
import { type FakeApiServer, startFakeApiServer } from '../peers/kube-apiserver/index.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { cli } from '../server/child.js';
import { createResource } from './cluster-resources.js';

const NS = 'iga';
const REF = { group: 'provisio.dev', version: 'v1alpha1', namespace: NS, plural: 'tasks', name: 'hr-employees' };

let kube: FakeApiServer;
let api: RestFixtureServer;
let kc: KubeConfig;
let runtime: Runtime;
let kubeconfig: string;
const state = tempDir();

interface TaskObject {
  metadata: { annotations?: Record<string, string> };
  spec: { suspend?: boolean };
  status?: TaskStatus;
}
const getTask = async () => (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject(REF)) as TaskObject;
const verb = (...args: string[]) => cli([...args, '--kubernetes', '--kubeconfig', kubeconfig], { timeoutMs: 30_000 });

beforeAll(async () => {
  kube = await startFakeApiServer();
  kc = kube.kubeConfig();
  kubeconfig = join(state.dir, 'kubeconfig');
  writeFileSync(kubeconfig, kc.exportConfig());
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
  for (const y of [connectorYaml({ baseUrl: api.url }), taskYaml()]) await createResource(kc, NS, y);
  runtime = await startRuntime({
    kubernetes: { kubeConfig: kc, namespaces: [NS] },
    stateDir: join(state.dir, 'state'),
    log: silentLogger,
    watch: true,
  });
});
afterAll(async () => {
  await runtime.close();
  await api.close();
  await kube.close();
  state.cleanup();
});

describe('operation verbs with --kubernetes', () => {
  it('trigger --wait sets provisio.dev/requestedAt and follows the run to its end', async () => {
    const r = await verb('trigger', 'hr-employees', '-n', NS, '--wait');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const task = await getTask();
    const at = task.metadata.annotations?.['provisio.dev/requestedAt'];
    expect(Number.isNaN(Date.parse(at ?? ''))).toBe(false);
    expect(task.status?.lastHandledReconcileAt).toBe(at);
    expect(r.stdout).toBe(
      `task iga/hr-employees: trigger requested\nrun ${task.status?.lastRun?.id}: extract Succeeded (${task.status?.lastRun?.extract?.info}); load Succeeded (${task.status?.lastRun?.load?.info})\n`,
    );
    expect(task.status?.lastRun?.load).toMatchObject({ created: 3 });
  });

  it('a second trigger --wait waits for its own run, not the one before it', async () => {
    const before = (await getTask()).status?.lastRun?.id;
    expect(before).toBeDefined();
    const r = await verb('trigger', 'hr-employees', '-n', NS, '--wait');
    expect(r.code).toBe(0);
    const after = (await getTask()).status?.lastRun;
    expect(after?.id).not.toBe(before);
    expect(r.stdout.split('\n')[1]).toBe(
      `run ${after?.id}: extract Succeeded (${after?.extract?.info}); load Succeeded (${after?.load?.info})`,
    );
  });

  it('clear-cache and stop set their annotations, which the controller echoes in status', async () => {
    const cleared = await verb('clear-cache', 'iga/hr-employees');
    expect([cleared.code, cleared.stdout]).toEqual([0, 'task iga/hr-employees: clear-cache requested\n']);
    const at = (await getTask()).metadata.annotations?.['provisio.dev/clearCacheRequestedAt'];
    await waitFor('clear-cache handled', async () => (await getTask()).status?.lastHandledClearCacheAt === at);

    const stopped = await verb('stop', 'hr-employees', '-n', NS);
    expect(stopped.code).toBe(0);
    const stopAt = (await getTask()).metadata.annotations?.['provisio.dev/stopRequestedAt'];
    await waitFor('stop handled', async () => (await getTask()).status?.lastHandledStopAt === stopAt);
  });

  it('suspend and resume set spec.suspend', async () => {
    expect((await verb('suspend', 'hr-employees', '-n', NS)).code).toBe(0);
    expect((await getTask()).spec.suspend).toBe(true);
    const suspended = await waitFor('Suspended', async () => {
      const s = (await getTask()).status;
      return s?.phase === 'Suspended' ? s : undefined;
    });
    expect(suspended.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Suspended' });

    expect((await verb('resume', 'hr-employees', '-n', NS)).code).toBe(0);
    expect((await getTask()).spec.suspend).toBe(false);
    await waitFor('Idle again', async () => (await getTask()).status?.phase === 'Idle');
  });

  it('names the task and the API server answer when the task does not exist', async () => {
    const r = await verb('trigger', 'hr-nobody', '-n', NS);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot trigger task iga/hr-nobody: 404: tasks.provisio.dev "hr-nobody" not found\n');
  });
});
