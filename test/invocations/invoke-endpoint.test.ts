/**
 * The invoke endpoint end to end: a controller runtime listening on a real port, called over HTTP
 * with undici, acting on a real upstream (RestFixtureServer).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretResolver } from '../../src/secrets/resolver.js';
import { TokenAuth } from '../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../src/server/serve.js';
import { captureLogger } from '../peers/log-capture.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { postInvoke } from './invoke-client.js';

const TOKEN = 's3cr3t-invoke-token';
const SECRET_PASSWORD = 'upstream-pa55word';
let upstream: RestFixtureServer;
let runtime: ServedRuntime;
let dir: string;
let base: string;
const logs = captureLogger('info');

const resources = (url: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api, namespace: iga}
spec:
  type: rest
  rest:
    baseUrl: ${url}/api
    auth: {type: basic, secretRef: {name: hr-api-credentials}}
    pagination: {type: none}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-users, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: event
  event: {query: /users, maxConcurrency: 2, timeout: 5s}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-paused, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: event
  suspend: true
  event: {query: /users}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-employees, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: scheduled
  schedule: {cron: "0 0 1 1 *"}
  source: {rest: {query: /employees}}
  mappings:
    generic:
      template: employee
      attributes: [{external: id, local: employee_id, unique: true}]
`;

const invoke = (name: string, body: unknown, headers: Record<string, string> = {}) =>
  postInvoke(base, { namespace: 'iga', name }, TOKEN, body, headers);

beforeAll(async () => {
  upstream = await RestFixtureServer.start();
  dir = mkdtempSync(join(tmpdir(), 'provisio-invoke-'));
  writeFileSync(join(dir, 'hr.yaml'), resources(upstream.url));
  runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    log: logs.log,
    secrets: new LocalSecretResolver(undefined, {
      PROVISIO_SECRET_HR_API_CREDENTIALS_USERNAME: 'svc-provisio',
      PROVISIO_SECRET_HR_API_CREDENTIALS_PASSWORD: SECRET_PASSWORD,
    }),
    listen: '127.0.0.1:0',
    auth: new TokenAuth([TOKEN]),
    // Connection checks call the upstream on their own; these tests count the calls invocations make.
    checkConnections: false,
  });
  base = `http://127.0.0.1:${runtime.address!.port}`;
});

afterAll(async () => {
  await runtime.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  upstream.reset();
  upstream.auth = { type: 'basic', username: 'svc-provisio', password: SECRET_PASSWORD };
  upstream.route('PATCH', '/api/users/:id', (req, p) => ({
    status: 200,
    json: { id: p.id, received: JSON.parse(req.body) },
  }));
  upstream.route('GET', '/api/users/:id', (_req, p) =>
    p.id === 'ghost'
      ? { status: 404, json: { error: { message: 'user ghost does not exist' } } }
      : { json: { id: p.id } },
  );
  upstream.collection('/api/employees', [{ id: 'E1' }, { id: 'E2' }], { paging: 'none' });
  logs.clear();
});

describe('authentication and refusals', () => {
  it('answers 401 without a valid bearer token, and never calls upstream', async () => {
    for (const auth of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }]) {
      const res = await request(`${base}/api/v1/namespaces/iga/tasks/hr-users/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: '{"activity":"restCall","input":{"method":"GET","url":"/x"}}',
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="provisio"');
      expect(JSON.parse(await res.body.text())).toEqual({
        error: 'a valid bearer token is required (Authorization: Bearer <token>)',
      });
    }
    expect(upstream.calls()).toHaveLength(0);
  });

  it('says what to fix for malformed or unknown requests', async () => {
    expect(await invoke('nope', { activity: 'restCall' })).toMatchObject({
      status: 404,
      body: { error: 'Task "nope" not found in namespace "iga"' },
    });
    expect(await invoke('hr-employees', { activity: 'restCall' })).toMatchObject({
      status: 409,
      body: { error: 'Task iga/hr-employees is a scheduled task; only tasks with usage: event can be invoked' },
    });
    expect(await invoke('hr-paused', { activity: 'restCall' })).toMatchObject({
      status: 409,
      body: {
        error: 'Task iga/hr-paused is suspended: resume it (spec.suspend: false or provisio resume) to invoke it',
      },
    });
    expect((await invoke('hr-users', '{"activity": "restCall",')).status).toBe(400);
    expect((await invoke('hr-users', '{"activity": "restCall",')).body.error).toMatch(
      /^request body is not valid JSON: /,
    );
    expect(await invoke('hr-users', { activity: 'sendMail' })).toMatchObject({
      status: 400,
      body: { error: 'unknown activity "sendMail": this task supports restCall, runTask' },
    });
    expect(await invoke('hr-users', { input: {} })).toMatchObject({
      status: 400,
      body: { error: '"activity" is required: one of restCall, runTask' },
    });
    expect(await invoke('hr-users', { activity: 'restCall', data: [] })).toMatchObject({ status: 400 });
    expect(await invoke('hr-users', { activity: 'restCall', input: {}, data: {}, extra: 1 })).toMatchObject({
      status: 400,
      body: { error: 'unknown field(s) "extra": use activity, input, data' },
    });
    const form = await invoke('hr-users', 'activity=restCall', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form).toMatchObject({
      status: 415,
      body: { error: 'send the invocation as Content-Type: application/json' },
    });
    expect(upstream.calls()).toHaveLength(0);
  });

  it('answers 413 for a body over 6 MiB', async () => {
    const big = JSON.stringify({ activity: 'restCall', input: { body: 'x'.repeat(6 * 1024 * 1024 + 10) } });
    const res = await invoke('hr-users', big);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'request body is larger than 6291456 bytes' });
  });
});

describe('restCall', () => {
  it('calls base URL + task query + call URL with substituted values and answers Completed', async () => {
    const res = await invoke('hr-users', {
      activity: 'restCall',
      input: { method: 'PATCH', url: '/$objectGUID$', body: '{"mail": "$mail$", "manager": "$manager:mail$"}' },
      data: { objectGUID: 'a b/c', mail: 'ann@example.com', reference: { manager: { mail: 'boss@example.com' } } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'Completed',
      statusCode: 200,
      exception: null,
      response: { id: 'a b/c', received: { mail: 'ann@example.com', manager: 'boss@example.com' } },
    });
    expect(typeof res.body.durationMs).toBe('number');
    expect(upstream.calls()[0].path).toBe('/api/users/a%20b%2Fc');
  });

  it('answers Exception with the upstream error for a status >= 400', async () => {
    const res = await invoke('hr-users', { activity: 'restCall', input: { method: 'GET', url: '/ghost' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'Exception',
      statusCode: 404,
      response: { error: { message: 'user ghost does not exist' } },
    });
    expect(res.body.exception).toContain('user ghost does not exist');
  });

  it('refuses a call URL on another origin with 400 and calls nothing', async () => {
    const res = await invoke('hr-users', {
      activity: 'restCall',
      input: { method: 'GET', url: 'http://evil.example/x' },
    });
    expect(res.status).toBe(400);
    expect(upstream.calls()).toHaveLength(0);
  });

  it('returns the first result for a repeated Idempotency-Key and calls upstream once', async () => {
    const body = { activity: 'restCall', input: { method: 'PATCH', url: '/u1', body: '{"n": 1}' }, data: {} };
    const first = await invoke('hr-users', body, { 'idempotency-key': 'wf-run-77' });
    const again = await invoke('hr-users', body, { 'idempotency-key': 'wf-run-77' });
    expect(again.body).toEqual(first.body);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.headers['idempotent-replayed']).toBe('true');
    // Concurrent repeats of a new key: one upstream call between them.
    const both = await Promise.all([
      invoke('hr-users', body, { 'idempotency-key': 'wf-run-78' }),
      invoke('hr-users', body, { 'idempotency-key': 'wf-run-78' }),
    ]);
    expect(both[0].body).toEqual(both[1].body);
    expect(upstream.calls('/api/users/u1')).toHaveLength(2);
  });

  it('refuses with 429 and Retry-After when the task is at its maxConcurrency', async () => {
    upstream.fault('/api/users/slow', { kind: 'delay', ms: 600 }, { kind: 'delay', ms: 600 });
    const call = () => invoke('hr-users', { activity: 'restCall', input: { method: 'GET', url: '/slow' } });
    const results = await Promise.all([call(), call(), call()]);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(1);
    expect(refused[0].headers['retry-after']).toBe('1');
    expect(refused[0].body.error).toBe(
      'task iga/hr-users is handling 2 invocations, its event.maxConcurrency; retry shortly',
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
  });

  it('writes one audit line per invocation, with no token, secret or substituted value', async () => {
    await invoke('hr-users', {
      activity: 'restCall',
      input: { method: 'PATCH', url: '/$id$', body: '{"ssn": "$ssn$"}' },
      data: { id: 'u-42', ssn: '123-45-6789' },
    });
    const audit = logs.entries().filter((e) => e.audit === 'invocation');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ task: 'iga/hr-users', activity: 'restCall', state: 'Completed', statusCode: 200 });
    expect(String(audit[0].caller)).toMatch(/^token-[0-9a-f]{8}$/);
    const all = logs.text();
    for (const secret of [TOKEN, SECRET_PASSWORD, '123-45-6789', 'u-42']) expect(all).not.toContain(secret);
  });
});

describe('runTask', () => {
  it('starts a scheduled task of the namespace and waits for its result', async () => {
    const res = await invoke('hr-users', {
      activity: 'runTask',
      input: { task: 'hr-employees', wait: true, timeoutSeconds: 20 },
    });
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('Completed');
    expect(res.body.response).toMatchObject({ trigger: 'workflow', extract: { status: 'Succeeded', records: 2 } });
  });

  it('answers Exception for a task that cannot run', async () => {
    const res = await invoke('hr-users', { activity: 'runTask', input: { task: 'hr-paused' } });
    expect(res.body).toMatchObject({
      state: 'Exception',
      exception: expect.stringMatching(/^task iga\/hr-paused was not started: /),
    });
    expect((await invoke('hr-users', { activity: 'runTask', input: {} })).status).toBe(400);
  });
});

describe('status and metrics', () => {
  it('counts invocations in status.invocations and Prometheus', async () => {
    await invoke('hr-users', { activity: 'restCall', input: { method: 'GET', url: '/ghost' } });
    await runtime.invocations!.flush();
    const inv = runtime.statuses.read<{ invocations?: Record<string, unknown>; endpoint?: string }>(
      'Task',
      'iga/hr-users',
    )!.status;
    expect(inv.endpoint).toBe('/api/v1/namespaces/iga/tasks/hr-users/invoke');
    expect(inv.invocations?.total).toBeGreaterThanOrEqual(1);
    expect(inv.invocations?.failed).toBeGreaterThanOrEqual(1);
    expect(String(inv.invocations?.lastError)).toContain('404');
    const metrics = await (await request(`${base}/metrics`)).body.text();
    expect(metrics).toMatch(
      /provisio_invocations_total\{namespace="iga",task="hr-users",activity="restCall",state="Exception"\} \d+/,
    );
    expect(metrics).toContain('provisio_invocation_duration_seconds_bucket');
  });
});
