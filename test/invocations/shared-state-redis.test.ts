/**
 * Two replicas serving the event endpoint with shared state in a real Redis (`--redis`): an Idempotency-Key
 * retry that reaches the other replica gets the first result and never calls the upstream twice, even when
 * both arrive at once; a key whose first caller died answers 409 until a caller forces a new call; invocation
 * counts add up across replicas. The Redis password never appears in logs or errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import type { TaskStatus } from '../../src/model/resources.js';
import { TokenAuth } from '../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../src/server/serve.js';
import { connectRedis } from '../../src/state/redis/redis-client.js';
import { captureLogger } from '../peers/log-capture.js';
import { type RedisPeer, startRedis } from '../peers/redis.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { postInvoke } from './invoke-client.js';

const TOKEN = 'shared-state-token';
const PASSWORD = 'r3dis-pa55word';
const TASK = 'iga/hr-users';
let redis: RedisPeer;
let upstream: RestFixtureServer;
let dir: string;
let replicas: ServedRuntime[] = [];
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
  event: {query: /users, timeout: 5s}
`;

const CALL = {
  activity: 'restCall',
  input: { method: 'POST', url: '/new', body: '{"name": "$name$"}' },
  data: { name: 'Ada' },
};

async function invoke(replica: ServedRuntime, body: unknown, key?: string) {
  const reply = await postInvoke(
    `http://127.0.0.1:${replica.address!.port}`,
    { namespace: 'iga', name: 'hr-users' },
    TOKEN,
    body,
    key ? { 'idempotency-key': key } : {},
  );
  return { status: reply.status, replayed: reply.headers['idempotent-replayed'], body: reply.body };
}

const upstreamPosts = () => upstream.requests.filter((r) => r.method === 'POST').length;

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  upstream = await RestFixtureServer.start();
  dir = mkdtempSync(join(tmpdir(), 'provisio-shared-'));
  writeFileSync(join(dir, 'hr.yaml'), resources(upstream.url));
  for (const name of ['a', 'b']) {
    replicas.push(
      await startServedRuntime({
        dir,
        stateDir: join(dir, `state-${name}`),
        log: logs.log,
        listen: '127.0.0.1:0',
        auth: new TokenAuth([TOKEN]),
        redis: redis.url,
        // Connection checks call the upstream on their own; these tests count the calls invocations make.
        checkConnections: false,
        // The tests flush themselves: a timer's flush taking a batch between an invoke and the test's flush
        // would record totals before the other replica's counts are in Redis.
        invocationFlushMs: 3_600_000,
      }),
    );
  }
});
afterAll(async () => {
  for (const r of replicas) await r.close();
  replicas = [];
  await upstream.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  upstream.reset();
  let n = 0;
  upstream.route('POST', '/api/users/new', () => ({ status: 201, json: { id: `u${++n}` } }));
});

describe('state shared in Redis between replicas', () => {
  it('answers a retry on the other replica with the first result, calling the upstream once', async () => {
    const [a, b] = replicas;
    const first = await invoke(a, CALL, 'create-ada-1');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ state: 'Completed', statusCode: 201, response: { id: 'u1' } });
    expect(first.replayed).toBeUndefined();
    const retry = await invoke(b, CALL, 'create-ada-1');
    expect(retry.status).toBe(200);
    expect(retry.replayed).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(upstreamPosts()).toBe(1);
  });

  it('calls the upstream once when the same key reaches both replicas at the same time', async () => {
    upstream.fault((r) => r.method === 'POST', { kind: 'delay', ms: 300 });
    const [x, y] = await Promise.all([
      invoke(replicas[0], CALL, 'create-ada-2'),
      invoke(replicas[1], CALL, 'create-ada-2'),
    ]);
    expect(upstreamPosts()).toBe(1);
    expect(x.body).toEqual(y.body);
    expect([x.replayed, y.replayed].filter((v) => v === 'true')).toHaveLength(1);
  });

  it('answers 409 for a key whose first caller died (no heartbeat), and calls again only when forced', async () => {
    // What a replica of an earlier version killed mid-call leaves behind: a pending marker without a heartbeat.
    await redis.client.set(`provisio:idempotency:${TASK}:create-ada-3`, 'pending:dead-replica', 'PX', 60_000);
    const answer = await invoke(replicas[1], CALL, 'create-ada-3');
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatch(/^outcome unknown: the first attempt was interrupted/);
    expect(upstreamPosts()).toBe(0);
    const forced = await postInvoke(
      `http://127.0.0.1:${replicas[1].address!.port}`,
      { namespace: 'iga', name: 'hr-users' },
      TOKEN,
      CALL,
      { 'idempotency-key': 'create-ada-3', 'idempotency-replay': 'force' },
    );
    expect(forced.body).toMatchObject({ state: 'Completed', statusCode: 201 });
    expect(upstreamPosts()).toBe(1);
    const again = await invoke(replicas[0], CALL, 'create-ada-3');
    expect(again.body).toEqual(forced.body);
    expect(upstreamPosts()).toBe(1);
  });

  it('adds up invocation counts of every replica in each replica status', async () => {
    // The totals so far (earlier tests invoked both replicas): the replica that flushes last records them.
    await replicas[0].invocations!.flush();
    await replicas[1].invocations!.flush();
    const before = replicas[1].statuses.read<TaskStatus>('Task', TASK)?.status.invocations?.total ?? 0;
    expect(before).toBe(3); // one upstream call per earlier test; replays are not invocations
    for (let i = 0; i < 2; i++) await invoke(replicas[0], CALL);
    for (let i = 0; i < 3; i++) await invoke(replicas[1], CALL);
    await replicas[0].invocations!.flush();
    await replicas[1].invocations!.flush();
    expect(replicas[1].statuses.read<TaskStatus>('Task', TASK)?.status.invocations?.total).toBe(before + 5);
    await replicas[0].invocations!.flush(); // nothing new: it still records the latest totals it wrote
    expect(replicas[0].statuses.read<TaskStatus>('Task', TASK)?.status.invocations?.total).toBe(before + 2);
    await invoke(replicas[0], CALL);
    await replicas[0].invocations!.flush();
    expect(replicas[0].statuses.read<TaskStatus>('Task', TASK)?.status.invocations).toMatchObject({
      total: before + 6,
      failed: 0,
    });
  });

  it('answers a flush only once a flush already waiting for Redis has written its counts', async () => {
    await replicas[0].invocations!.flush();
    const before = replicas[0].statuses.read<TaskStatus>('Task', TASK)?.status.invocations?.total ?? 0;
    await invoke(replicas[0], CALL);
    // The first flush takes the count and waits for Redis; the second finds nothing pending of its own.
    const first = replicas[0].invocations!.flush();
    await replicas[0].invocations!.flush();
    expect(replicas[0].statuses.read<TaskStatus>('Task', TASK)?.status.invocations?.total).toBe(before + 1);
    await first;
  });

  it('never shows the Redis password, also when Redis cannot be reached', async () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:1/0`;
    await expect(connectRedis(url, silentLogger, 1000)).rejects.toThrow(
      /^--redis: cannot reach Redis at 127\.0\.0\.1:1: /,
    );
    await connectRedis(url, silentLogger, 1000).catch((e: Error) => expect(e.message).not.toContain(PASSWORD));
    expect(logs.text()).toContain('shared state in Redis at 127.0.0.1:');
    expect(logs.text()).not.toContain(PASSWORD);
  });
});
