/**
 * The controller's HTTP API (DESIGN §3) against `provisio run` in a child process: health and metrics, the
 * read-only status API, the authenticated operation endpoints, routing errors, and a clean SIGTERM shutdown.
 */
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, TaskRunSummary } from '../../src/model/resources.js';
import {
  connectorYaml,
  employeeRows,
  type GitRepo,
  gitRepo,
  taskYaml,
  tempDir,
  waitFor,
} from '../controller/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { type RunningController, startRun } from './child.js';

const TASK_PATH = '/api/v1/namespaces/iga/tasks/hr-employees';
const tokenId = (token: string) => `token-${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;

let api: RestFixtureServer;
let repo: GitRepo;
let head: string;
let state: { dir: string; cleanup(): void };
let ctl: RunningController;

async function call(method: string, path: string, token?: string) {
  const res = await fetch(`${ctl.url}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: body as Record<string, unknown>, text };
}

interface TaskView {
  status: {
    phase?: string;
    nextRunTime?: string;
    lastRun?: TaskRunSummary;
    history?: TaskRunSummary[];
    conditions?: Condition[];
  };
}
const taskView = async () => (await call('GET', TASK_PATH)).body as unknown as TaskView;

beforeAll(async () => {
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(4), { paging: 'page' });
  repo = gitRepo();
  repo.write('hr-api.yaml', connectorYaml({ baseUrl: api.url }));
  repo.write('hr-employees.yaml', taskYaml());
  repo.write('hr-contractors.yaml', taskYaml({ name: 'hr-contractors', query: '/employees', template: 'contractor' }));
  head = repo.commit();
  state = tempDir();
  ctl = await startRun(['--dir', repo.dir, '--state-dir', state.dir], {
    PROVISIO_API_TOKENS: 'tok1,tok2',
    PROVISIO_ENVIRONMENT: 'prod',
  });
});
afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await api.close();
  repo.cleanup();
  state.cleanup();
});

describe('health and metrics', () => {
  it('answers /healthz and /readyz without a token', async () => {
    expect(await call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('serves Prometheus metrics with the task run counter', async () => {
    const res = await call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.text).toContain('# TYPE provisio_task_runs_total counter');
    expect(res.text).toContain('# TYPE provisio_task_run_duration_seconds histogram');
    // The environment type (PROVISIO_ENVIRONMENT) labels every series.
    const series = res.text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(series.length).toBeGreaterThan(10);
    expect(series.filter((l) => !l.includes('environment="prod"'))).toEqual([]);
  });
});

describe('status API', () => {
  it('lists tasks as a List with the source revision', async () => {
    const res = await call('GET', '/api/v1/tasks');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ apiVersion: 'v1', kind: 'List', metadata: { revision: head } });
    const items = res.body.items as Array<{ kind: string; metadata: { name: string; namespace: string } }>;
    expect(items.map((i) => [i.kind, i.metadata.namespace, i.metadata.name])).toEqual([
      ['Task', 'iga', 'hr-contractors'],
      ['Task', 'iga', 'hr-employees'],
    ]);
    const inOther = await call('GET', '/api/v1/namespaces/hr/tasks');
    expect(inOther).toMatchObject({ status: 200, body: { kind: 'List', items: [] } });
  });

  it('shows one task with spec, status and where it was declared', async () => {
    const res = await call('GET', TASK_PATH);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      apiVersion: 'provisio.dev/v1alpha1',
      kind: 'Task',
      metadata: { name: 'hr-employees', namespace: 'iga', generation: 1 },
      spec: { connectorRef: { name: 'hr-api' }, usage: 'scheduled' },
      status: { observedGeneration: 1, phase: 'Idle' },
      source: { file: `${repo.dir}/hr-employees.yaml`, line: 1, revision: head },
    });
    const ready = (res.body.status as TaskView['status']).conditions?.[0];
    expect(ready).toMatchObject({ type: 'Ready', status: 'True', reason: 'Scheduled' });
    const conn = await call('GET', '/api/v1/namespaces/iga/connectors/hr-api');
    expect(conn).toMatchObject({ status: 200, body: { kind: 'Connector', status: { scheduledTasks: 2 } } });
  });

  it('answers 404 with a message for an unknown task or resource type', async () => {
    expect(await call('GET', '/api/v1/namespaces/iga/tasks/hr-nobody')).toMatchObject({
      status: 404,
      body: { error: 'Task "hr-nobody" not found in namespace "iga"' },
    });
    expect(await call('GET', '/api/v1/widgets')).toMatchObject({
      status: 404,
      body: { error: 'unknown resource type "widgets": use connectors or tasks' },
    });
  });
});

describe('operations', () => {
  it('refuses a trigger without a token, with a wrong token, and names the scheme', async () => {
    const none = await call('POST', `${TASK_PATH}/trigger`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="provisio"');
    expect(none.body).toEqual({ error: 'a valid bearer token is required (Authorization: Bearer <token>)' });
    const wrong = await call('POST', `${TASK_PATH}/trigger`, 'tok3');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="provisio"');
    expect((await call('POST', `${TASK_PATH}/trigger`, 'tok1,tok2')).status).toBe(401);
    expect(api.calls('/employees')).toEqual([]);
  });

  it('triggers a run with any configured token and records it', async () => {
    const res = await call('POST', `${TASK_PATH}/trigger`, 'tok2');
    expect(res).toMatchObject({
      status: 202,
      body: { task: 'iga/hr-employees', operation: 'trigger', result: 'queued', caller: tokenId('tok2') },
    });
    const view = await waitFor('the triggered run', async () => {
      const v = await taskView();
      return v.status.history?.length === 1 && v.status.phase === 'Idle' ? v : undefined;
    });
    expect(view.status.lastRun).toMatchObject({
      trigger: 'manual',
      extract: { status: 'Succeeded', records: 4 },
      load: { status: 'Succeeded', created: 4 },
    });
    expect(view.status.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Succeeded' });
    const metrics = await call('GET', '/metrics');
    expect(metrics.text).toContain(
      'provisio_task_runs_total{namespace="iga",task="hr-employees",result="Succeeded",environment="prod"} 1',
    );
    expect(metrics.text).toContain(
      'provisio_records_extracted_total{namespace="iga",task="hr-employees",environment="prod"} 4',
    );
  });

  it('suspends: phase Suspended and triggers refused with 409; resume brings the schedule back', async () => {
    expect(await call('POST', `${TASK_PATH}/suspend`, 'tok1')).toMatchObject({
      status: 202,
      body: { task: 'iga/hr-employees', operation: 'suspend', result: 'suspended' },
    });
    let view = await taskView();
    expect(view.status.phase).toBe('Suspended');
    expect(view.status.nextRunTime).toBeUndefined();
    expect(view.status.conditions?.[0]).toMatchObject({ status: 'True', reason: 'Suspended' });
    expect(await call('POST', `${TASK_PATH}/trigger`, 'tok1')).toMatchObject({
      status: 409,
      body: { error: 'the task is suspended: resume it first' },
    });

    expect(await call('POST', `${TASK_PATH}/resume`, 'tok1')).toMatchObject({
      status: 202,
      body: { operation: 'resume', result: 'resumed' },
    });
    view = await taskView();
    expect(view.status.phase).toBe('Idle');
    expect(view.status.nextRunTime).toMatch(/^\d{4}-01-01T00:0\d:\d\d\.\d{3}Z$/);
    expect(view.status.conditions?.[0]).toMatchObject({ status: 'True', reason: 'Succeeded' });
  });

  it('accepts a cache clear, applied by the next run', async () => {
    expect(await call('POST', `${TASK_PATH}/clear-cache`, 'tok1')).toMatchObject({
      status: 202,
      body: { task: 'iga/hr-employees', operation: 'clear-cache', result: 'requested' },
    });
    expect((await call('POST', `${TASK_PATH}/trigger`, 'tok1')).status).toBe(202);
    const view = await waitFor('the run after the clear', async () => {
      const v = await taskView();
      return v.status.history?.length === 2 && v.status.phase === 'Idle' ? v : undefined;
    });
    expect(view.status.lastRun?.load).toMatchObject({ status: 'Succeeded', created: 0, updated: 4, unchanged: 0 });
  });

  it('accepts a cache clear with a cursor reset (clear-cache --cursor)', async () => {
    expect(await call('POST', `${TASK_PATH}/clear-cache?cursor=true`, 'tok1')).toMatchObject({
      status: 202,
      body: { task: 'iga/hr-employees', operation: 'clear-cache', result: 'requested with cursor reset' },
    });
  });

  it('answers 404 for an operation on an unknown task', async () => {
    expect(await call('POST', '/api/v1/namespaces/iga/tasks/hr-nobody/trigger', 'tok1')).toMatchObject({
      status: 404,
      body: { error: 'Task "hr-nobody" not found in namespace "iga"' },
    });
  });
});

describe('routing', () => {
  it('answers 404 for an unknown endpoint and 405 with Allow for a wrong method', async () => {
    expect(await call('GET', '/api/v2/tasks')).toMatchObject({
      status: 404,
      body: { error: 'no such endpoint: /api/v2/tasks' },
    });
    const del = await call('DELETE', '/api/v1/tasks');
    expect(del).toMatchObject({ status: 405, body: { error: 'DELETE is not allowed on /api/v1/tasks' } });
    expect(del.headers.get('allow')).toBe('GET');
    const get = await call('GET', `${TASK_PATH}/trigger`);
    expect(get).toMatchObject({ status: 405, body: { error: `GET is not allowed on ${TASK_PATH}/trigger` } });
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('answers 400, not 500, for a path with broken percent-encoding', async () => {
    expect(await call('GET', '/api/v1/namespaces/iga/tasks/hr-%E0%A4%A')).toMatchObject({
      status: 400,
      body: { error: 'malformed percent-encoding in /api/v1/namespaces/iga/tasks/hr-%E0%A4%A' },
    });
  });
});

describe('shutdown', () => {
  it('exits 0 soon after SIGTERM, even with a client stuck half-way through a request', async () => {
    const socket = connect(ctl.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // the headers never end
    await new Promise((r) => setTimeout(r, 200));
    const end = await ctl.stop('SIGTERM');
    socket.destroy();
    expect(end).toMatchObject({ code: 0, signal: null });
    expect(end.ms).toBeLessThan(5000);
  });
});
