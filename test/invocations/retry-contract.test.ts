/**
 * The retry contract of Idempotency-Key with file state (ADR 0007), against the controller as a child process
 * (`provisio run`, killed with SIGKILL mid-call) and an upstream of the test's own that counts calls:
 * a key reused for another call is refused (422) naming what differs; a retry after the controller was killed
 * while the upstream was being called answers 409 "outcome unknown" with the time of the first attempt, and never
 * calls the upstream again unless the caller sends `Idempotency-Replay: force`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { type RunningController, startRun } from '../server/child.js';
import { postInvoke } from './invoke-client.js';

const TOKEN = 'retry-contract-token';
let upstream: RestFixtureServer;
let dir: string;
let ctl: RunningController | undefined;

const resources = (url: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api, namespace: iga}
spec:
  type: rest
  rest: {baseUrl: ${url}/api, auth: {type: none}, pagination: {type: none}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-users, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: event
  event: {query: /users, timeout: 10s}
`;

const CREATE = {
  activity: 'restCall',
  input: { method: 'POST', url: '/new', body: '{"name": "$name$"}' },
  data: { name: 'Ada' },
};

const start = () =>
  startRun(['--dir', join(dir, 'repo'), '--state-dir', join(dir, 'state')], {
    PROVISIO_API_TOKENS: TOKEN,
  });
const invoke = (body: unknown, headers: Record<string, string>) =>
  postInvoke(ctl!.url, { namespace: 'iga', name: 'hr-users' }, TOKEN, body, headers);
const posts = () => upstream.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/api/users/new')).length;

beforeAll(async () => {
  upstream = await RestFixtureServer.start();
  dir = mkdtempSync(join(tmpdir(), 'provisio-retry-'));
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  writeFileSync(join(repo, 'hr.yaml'), resources(upstream.url));
});
afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  upstream.reset();
  let n = 0;
  upstream.route('POST', '/api/users/new', () => ({ status: 201, json: { id: `u${++n}` } }));
  ctl ??= await start();
});

describe('Idempotency-Key with file state', () => {
  it('refuses a key reused for another call with 422 naming the key and what differs', async () => {
    const first = await invoke(CREATE, { 'idempotency-key': 'wf-1' });
    expect(first.status).toBe(200);
    const otherData = await invoke({ ...CREATE, data: { name: 'Grace' } }, { 'idempotency-key': 'wf-1' });
    expect(otherData.status).toBe(422);
    expect(otherData.body.error).toBe(
      'Idempotency-Key "wf-1" was first used for another call on task iga/hr-users: its data differs; ' +
        'a key stands for one call, so send a new key for a new call',
    );
    const otherInput = await invoke(
      { ...CREATE, input: { ...CREATE.input, method: 'PUT' }, data: { name: 'Grace' } },
      { 'idempotency-key': 'wf-1' },
    );
    expect(otherInput.body.error).toContain('its input and data differ');
    const otherActivity = await invoke({ activity: 'runTask', input: { task: 'x' } }, { 'idempotency-key': 'wf-1' });
    expect(otherActivity.status).toBe(422);
    expect(otherActivity.body.error).toContain('its activity and input and data differ');
    // The same call, its members in another order: the first answer, replayed.
    const same = await invoke(
      { data: { name: 'Ada' }, input: { body: CREATE.input.body, url: '/new', method: 'POST' }, activity: 'restCall' },
      { 'idempotency-key': 'wf-1' },
    );
    expect(same.status).toBe(200);
    expect(same.headers['idempotent-replayed']).toBe('true');
    expect(same.body).toEqual(first.body);
    expect(posts()).toBe(1);
  });

  it('answers 409 "outcome unknown" after a kill -9 mid-call, until the caller forces a new call', async () => {
    let reached!: () => void;
    const arrived = new Promise<void>((r) => {
      reached = r;
    });
    // The upstream receives the POST; the controller is killed before it answers.
    upstream.route('POST', '/api/users/new', async () => {
      reached();
      await new Promise((r) => setTimeout(r, 30_000));
      return { status: 201, json: { id: 'never' } };
    });
    const before = Date.now();
    const firstCall = invoke(CREATE, { 'idempotency-key': 'wf-killed' }).catch((e: Error) => e);
    await arrived;
    const ended = await ctl!.stop('SIGKILL');
    expect(ended.signal).toBe('SIGKILL');
    expect(await firstCall).toBeInstanceOf(Error); // the caller lost its connection: outcome unknown to it
    ctl = await start();
    upstream.reset();
    let n = 0;
    upstream.route('POST', '/api/users/new', () => ({ status: 201, json: { id: `u${++n}` } }));

    const retry = await invoke(CREATE, { 'idempotency-key': 'wf-killed' });
    expect(retry.status).toBe(409);
    const m =
      /^outcome unknown: the first attempt was interrupted \(Idempotency-Key "wf-killed", started at (\S+)\); /.exec(
        retry.body.error,
      );
    expect(m).not.toBeNull();
    const startedAt = Date.parse(m![1]);
    expect(startedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(startedAt).toBeLessThanOrEqual(Date.now());
    expect(retry.body.error).toContain('"Idempotency-Replay: force"');
    // Again later: still 409, still no call.
    expect((await invoke(CREATE, { 'idempotency-key': 'wf-killed' })).status).toBe(409);
    expect(posts()).toBe(0);

    const forced = await invoke(CREATE, { 'idempotency-key': 'wf-killed', 'idempotency-replay': 'force' });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ state: 'Completed', statusCode: 201, response: { id: 'u1' } });
    expect(posts()).toBe(1);
    // The forced call's result is now the key's result.
    const after = await invoke(CREATE, { 'idempotency-key': 'wf-killed' });
    expect(after.headers['idempotent-replayed']).toBe('true');
    expect(after.body).toEqual(forced.body);
    expect(posts()).toBe(1);
  });

  it('refuses Idempotency-Replay with another value than force, or without a key', async () => {
    const bad = await invoke(CREATE, { 'idempotency-key': 'wf-2', 'idempotency-replay': 'yes' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'Idempotency-Replay takes one value: force' } });
    const keyless = await invoke(CREATE, { 'idempotency-replay': 'force' });
    expect(keyless.status).toBe(400);
    expect(keyless.body.error).toContain('needs an Idempotency-Key');
    expect(posts()).toBe(0);
  });
});
