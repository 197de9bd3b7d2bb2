/**
 * restCall when the upstream misbehaves: slow answers hit the task's timeout, a closed port is a refused
 * connection, resets are retried once for GET/PUT/DELETE and never for POST/PATCH, 5xx is never retried, and
 * the caller going away stops the call. Never a hang, never a throw.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeRestActionSessions, restCall } from '../../../src/connectors/rest/actions/index.js';
import { callPlan } from '../../../src/connectors/rest/actions/plan.js';
import type { ActionContext } from '../../../src/connectors/types.js';
import type { RestConnector, TaskEvent } from '../../../src/generated/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Task } from '../../../src/model/resources.js';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { freePort } from '../../peers/ports.js';
import { RestFixtureServer } from '../../peers/rest-fixture.js';
import { connector, NAMESPACE } from './helpers.js';

let api: RestFixtureServer;

beforeAll(async () => {
  api = await RestFixtureServer.start();
});
afterEach(async () => {
  api.reset();
  await closeRestActionSessions();
});
afterAll(async () => {
  await api?.close();
});

function ctxFor(event: TaskEvent = {}, rest: Partial<RestConnector> = {}, signal?: AbortSignal): ActionContext {
  const task: Task = {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'hr-users', namespace: NAMESPACE },
    spec: { connectorRef: { name: 'hr-api' }, usage: 'event', mappingsType: 'generic', event },
  };
  return {
    connector: connector({ baseUrl: `${api.url}/api/`, ...rest }),
    task,
    namespace: NAMESPACE,
    secrets: new LocalSecretResolver(undefined, {}),
    signal: signal ?? new AbortController().signal,
    log: silentLogger,
  };
}

const ok = (method: string, path: string): void => {
  api.route(method, path, () => ({ json: { ok: true } }));
};

describe('timeouts', () => {
  it('event.timeout bounds the call', async () => {
    ok('GET', '/api/slow');
    api.fault('/api/slow', { kind: 'delay', ms: 3000 });
    const started = Date.now();
    const result = await restCall(ctxFor({ timeout: '300ms' }), { method: 'GET', url: '/slow' }, {});
    expect(result).toEqual({
      state: 'Exception',
      response: null,
      exception: 'GET /api/slow did not answer within 300ms (spec.event.timeout)',
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(api.requests).toHaveLength(1);
  });

  it("a timeout on the caller's signal reads the same", async () => {
    ok('POST', '/api/slow');
    api.fault('/api/slow', { kind: 'delay', ms: 3000 });
    const ctx = ctxFor({ timeout: '1s' }, {}, AbortSignal.timeout(200));
    const result = await restCall(ctx, { method: 'POST', url: '/slow', body: '{}' }, {});
    expect(result.exception).toBe('POST /api/slow did not answer within 1s (spec.event.timeout)');
  });

  it('the default is 30s', () => {
    expect(callPlan(ctxFor().connector, ctxFor().task).timeoutMs).toBe(30_000);
    const task = ctxFor({ timeout: '2m' }).task;
    expect(callPlan(ctxFor().connector, task)).toMatchObject({ timeoutMs: 120_000, timeoutText: '2m' });
  });

  it('the caller going away cancels the call', async () => {
    ok('GET', '/api/slow');
    api.fault('/api/slow', { kind: 'delay', ms: 3000 });
    const controller = new AbortController();
    const pending = restCall(ctxFor({}, {}, controller.signal), { method: 'GET', url: '/slow' }, {});
    setTimeout(() => controller.abort(new Error('caller went away')), 100);
    expect((await pending).exception).toBe('GET /api/slow was cancelled: caller went away');
  });

  it('a caller that is already gone sends nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    const result = await restCall(ctxFor({}, {}, controller.signal), { method: 'GET', url: '/x' }, {});
    expect(result.exception).toBe('GET /api/x was cancelled: gone');
    expect(api.requests).toHaveLength(0);
  });

  it('a server that accepts the connection and never answers', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const ctx = ctxFor({ timeout: '250ms' }, { baseUrl: `http://127.0.0.1:${port}/api/` });
      const result = await restCall(ctx, { method: 'PATCH', url: '/users/1', body: '{}' }, {});
      expect(result.exception).toBe('PATCH /api/users/1 did not answer within 250ms (spec.event.timeout)');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe('connection errors', () => {
  it('a closed port: connection refused', async () => {
    const port = await freePort();
    const ctx = ctxFor({}, { baseUrl: `http://127.0.0.1:${port}/api/` });
    const result = await restCall(ctx, { method: 'POST', url: '/users', body: '{}' }, {});
    expect(result).toEqual({
      state: 'Exception',
      response: null,
      exception: 'POST /api/users failed: connection refused (ECONNREFUSED)',
    });
  });

  it.each(['POST', 'PATCH'])('%s is not repeated after a reset', async (method) => {
    ok(method, '/api/users');
    api.fault('/api/users', { kind: 'reset' });
    const result = await restCall(ctxFor(), { method, url: '/users', body: '{}' }, {});
    expect(result.state).toBe('Exception');
    expect(result.exception).toMatch(
      new RegExp(
        `^${method} /api/users failed: connection (reset|closed) by the server \\((ECONNRESET|UND_ERR_SOCKET)\\)$`,
      ),
    );
    expect(api.requests).toHaveLength(1);
  });

  it.each(['GET', 'PUT', 'DELETE'])('%s is sent once more after a reset', async (method) => {
    ok(method, '/api/users/1');
    api.fault('/api/users/1', { kind: 'reset' });
    const result = await restCall(ctxFor(), { method, url: '/users/1' }, {});
    expect(result).toEqual({ state: 'Completed', statusCode: 200, response: { ok: true }, exception: null });
    expect(api.requests).toHaveLength(2);
  });

  it('a second reset is an Exception', async () => {
    ok('PUT', '/api/users/1');
    api.fault('/api/users/1', { kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' });
    const result = await restCall(ctxFor(), { method: 'PUT', url: '/users/1', body: '{}' }, {});
    expect(result.state).toBe('Exception');
    expect(api.requests).toHaveLength(2);
  });

  it('503 is reported, not retried, even for GET', async () => {
    ok('GET', '/api/users');
    api.fault('/api/users', { kind: 'status', status: 503, body: 'maintenance', headers: { 'Retry-After': '1' } });
    const result = await restCall(ctxFor(), { method: 'GET', url: '/users' }, {});
    expect(result).toEqual({
      state: 'Exception',
      statusCode: 503,
      response: 'maintenance',
      exception: 'GET /api/users answered 503 Service Unavailable: maintenance',
    });
    expect(api.requests).toHaveLength(1);
  });

  it('a truncated JSON answer is returned as text', async () => {
    api.route('GET', '/api/users', () => ({ json: { items: [1, 2, 3, 4, 5, 6] } }));
    api.fault('/api/users', { kind: 'truncate' });
    const result = await restCall(ctxFor(), { method: 'GET', url: '/users' }, {});
    expect(result.state).toBe('Completed');
    expect(typeof result.response).toBe('string');
  });
});

describe('load', () => {
  it('64 concurrent invocations on one cached session all complete', async () => {
    api.route('PATCH', '/api/users/:id', (req, params) => ({ json: { id: params.id, body: JSON.parse(req.body) } }));
    // One context per invocation, as the invoke endpoint builds them (each with its caller's own signal).
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        restCall(
          ctxFor({ query: '/users' }),
          { method: 'PATCH', url: '/$id$', body: '{"n": $n$}' },
          { id: `u${i}`, n: i },
        ),
      ),
    );
    results.forEach((r, i) => {
      expect(r).toEqual({
        state: 'Completed',
        statusCode: 200,
        response: { id: `u${i}`, body: { n: i } },
        exception: null,
      });
    });
  });
});
