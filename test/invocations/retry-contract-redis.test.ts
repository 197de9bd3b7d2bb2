/**
 * The retry contract of Idempotency-Key with shared state in a real Redis (ADR 0007), with faults injected:
 * the controller killed with SIGKILL mid-call (a child `provisio run --redis`), Redis stopped before a call and
 * killed after the upstream answered, a key reused for another call. The upstream is the test's own and counts
 * the calls.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenAuth } from '../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../src/server/serve.js';
import { captureLogger } from '../peers/log-capture.js';
import { type RedisPeer, startRedis } from '../peers/redis.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { startRun } from '../server/child.js';
import { postInvoke } from './invoke-client.js';

const TOKEN = 'retry-redis-token';
let upstream: RestFixtureServer;
let dir: string;
const logs = captureLogger('info');

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
  event: {query: /users, timeout: 20s}
`;

const CREATE = {
  activity: 'restCall',
  input: { method: 'POST', url: '/new', body: '{"name": "$name$"}' },
  data: { name: 'Ada' },
};

const invoke = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  postInvoke(url, { namespace: 'iga', name: 'hr-users' }, TOKEN, body, headers);
const posts = () => upstream.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/api/users/new')).length;

async function replica(redis: RedisPeer, name: string): Promise<{ runtime: ServedRuntime; url: string }> {
  const runtime = await startServedRuntime({
    dir: join(dir, 'repo'),
    stateDir: join(dir, `state-${name}`),
    log: logs.log,
    listen: '127.0.0.1:0',
    auth: new TokenAuth([TOKEN]),
    redis: redis.url,
    checkConnections: false,
  });
  return { runtime, url: `http://127.0.0.1:${runtime.address!.port}` };
}

/** Resolves when the upstream receives the next POST; the upstream then answers only after `release`. */
function holdNextPost(): { arrived: Promise<void>; release: () => void } {
  let reached!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((r) => {
    reached = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  upstream.route('POST', '/api/users/new', async () => {
    reached();
    await released;
    return { status: 201, json: { id: 'held' } };
  });
  return { arrived, release };
}

beforeAll(async () => {
  upstream = await RestFixtureServer.start();
  dir = mkdtempSync(join(tmpdir(), 'provisio-retry-redis-'));
  mkdirSync(join(dir, 'repo'));
  writeFileSync(join(dir, 'repo', 'hr.yaml'), resources(upstream.url));
});
afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  upstream.reset();
  let n = 0;
  upstream.route('POST', '/api/users/new', () => ({ status: 201, json: { id: `u${++n}` } }));
  logs.clear();
});

describe('Idempotency-Key with shared state in Redis', () => {
  it('answers 409 at once on another replica when the controller was killed mid-call, until forced', async () => {
    const redis = await startRedis();
    const other = await replica(redis, 'survivor');
    const killed = await startRun(
      ['--dir', join(dir, 'repo'), '--state-dir', join(dir, 'state-killed'), '--redis', redis.url],
      { PROVISIO_API_TOKENS: TOKEN },
    );
    try {
      const held = holdNextPost();
      const before = Date.now();
      const first = invoke(killed.url, CREATE, { 'idempotency-key': 'wf-r1' }).catch((e: Error) => e);
      await held.arrived;
      // While the first attempt runs (its owner alive), a retry waits for it rather than calling again.
      const waiting = invoke(other.url, CREATE, { 'idempotency-key': 'wf-r1' });
      await new Promise((r) => setTimeout(r, 300));
      expect((await killed.stop('SIGKILL')).signal).toBe('SIGKILL');
      expect(await first).toBeInstanceOf(Error);
      held.release();
      const killedAt = Date.now();
      const retry = await waiting;
      // The owner's heartbeat (3 s) ran out: 409, long before the task's 20 s timeout.
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      expect(retry.status).toBe(409);
      const m =
        /^outcome unknown: the first attempt was interrupted \(Idempotency-Key "wf-r1", started at (\S+)\)/.exec(
          retry.body.error,
        );
      expect(Date.parse(m![1])).toBeGreaterThanOrEqual(before - 1000);
      // A later retry: 409 at once, no call.
      const t0 = Date.now();
      expect((await invoke(other.url, CREATE, { 'idempotency-key': 'wf-r1' })).status).toBe(409);
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(posts()).toBe(1);

      upstream.reset();
      upstream.route('POST', '/api/users/new', () => ({ status: 201, json: { id: 'u-forced' } }));
      const forced = await invoke(other.url, CREATE, { 'idempotency-key': 'wf-r1', 'idempotency-replay': 'force' });
      expect(forced.body).toMatchObject({ state: 'Completed', statusCode: 201, response: { id: 'u-forced' } });
      const replay = await invoke(other.url, CREATE, { 'idempotency-key': 'wf-r1' });
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(forced.body);
      expect(posts()).toBe(1);
    } finally {
      await killed.stop('SIGKILL');
      await other.runtime.close();
      await redis.stop();
    }
  });

  it('refuses a key reused for another call with 422, on any replica', async () => {
    const redis = await startRedis();
    const [a, b] = [await replica(redis, 'a'), await replica(redis, 'b')];
    try {
      expect((await invoke(a.url, CREATE, { 'idempotency-key': 'wf-r2' })).status).toBe(200);
      const other = await invoke(
        b.url,
        { ...CREATE, input: { ...CREATE.input, url: '/other' } },
        {
          'idempotency-key': 'wf-r2',
        },
      );
      expect(other.status).toBe(422);
      expect(other.body.error).toMatch(
        /^Idempotency-Key "wf-r2" was first used for another call on task iga\/hr-users: its input differs;/,
      );
      expect(posts()).toBe(1);
    } finally {
      await a.runtime.close();
      await b.runtime.close();
      await redis.stop();
    }
  });

  it('answers 503 with Retry-After within 1 s naming Redis when it is down; calls without a key go on', async () => {
    const redis = await startRedis();
    const r = await replica(redis, 'down');
    try {
      await redis.stop();
      const t0 = Date.now();
      const refused = await invoke(r.url, CREATE, { 'idempotency-key': 'wf-r3' });
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body.error).toContain(
        `the shared idempotency store (Redis at 127.0.0.1:${redis.port}) cannot be reached`,
      );
      expect(refused.body.error).toContain('the upstream was not called');
      expect(posts()).toBe(0);
      const keyless = await invoke(r.url, CREATE);
      expect(keyless.status).toBe(200);
      expect(keyless.body).toMatchObject({ state: 'Completed', statusCode: 201 });
      expect(posts()).toBe(1);
    } finally {
      await r.runtime.close();
    }
  });

  it('replays a stored result after Redis crashed and restarted with AOF; without persistence the retry calls again', async () => {
    for (const appendonly of [true, false]) {
      const redis = await startRedis({ appendonly });
      const r = await replica(redis, `aof-${appendonly}`);
      try {
        upstream.reset();
        let n = 0;
        upstream.route('POST', '/api/users/new', () => ({ status: 201, json: { id: `u${++n}` } }));
        const key = `wf-aof-${appendonly}`;
        const first = await invoke(r.url, CREATE, { 'idempotency-key': key });
        expect(first.body).toMatchObject({ state: 'Completed', response: { id: 'u1' } });
        await redis.crash();
        await redis.restart();
        // A workflow retries as Retry-After says while the controller reconnects.
        let retry = await invoke(r.url, CREATE, { 'idempotency-key': key });
        for (let i = 0; retry.status === 503 && i < 10; i++) {
          await new Promise((done) => setTimeout(done, Number(retry.headers['retry-after']) * 1000));
          retry = await invoke(r.url, CREATE, { 'idempotency-key': key });
        }
        expect(retry.status).toBe(200);
        if (appendonly) {
          expect(retry.headers['idempotent-replayed']).toBe('true');
          expect(retry.body).toEqual(first.body);
          expect(posts()).toBe(1);
        } else {
          // What the README warns of: an empty Redis knows nothing of the first call.
          expect(retry.body).toMatchObject({ response: { id: 'u2' } });
          expect(posts()).toBe(2);
        }
      } finally {
        await r.runtime.close();
        await redis.stop();
      }
    }
  });

  it('still answers when Redis is killed after the upstream answered, with a Provisio-Warning', async () => {
    const redis = await startRedis();
    const r = await replica(redis, 'lost');
    try {
      upstream.route('POST', '/api/users/new', async () => {
        await redis.stop('SIGKILL'); // Redis dies while the upstream is acting: the result cannot be stored
        return { status: 201, json: { id: 'u-lost' } };
      });
      const t0 = Date.now();
      const answer = await invoke(r.url, CREATE, { 'idempotency-key': 'wf-r4' });
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ state: 'Completed', statusCode: 201, response: { id: 'u-lost' } });
      expect(answer.headers['provisio-warning']).toMatch(
        new RegExp(`^result not stored: Redis at 127\\.0\\.0\\.1:${redis.port}: `),
      );
      expect(logs.text()).toContain('could not be stored in Redis');
    } finally {
      await r.runtime.close();
    }
  });
});
