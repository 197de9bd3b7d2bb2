/** Retries, backoff, Retry-After, timeouts and stop requests, with faults injected by the fixture server. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { extractRest } from '../../../src/connectors/rest/index.js';
import { ExtractError } from '../../../src/connectors/types.js';
import { captureLogger } from '../../peers/log-capture.js';
import { freePort } from '../../peers/ports.js';
import { RestFixtureServer } from '../../peers/rest-fixture.js';
import { collect, collectFailure, context, FAST, ids } from './helpers.js';

let api: RestFixtureServer;
const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];

beforeAll(async () => {
  api = await RestFixtureServer.start();
});
afterEach(() => api.reset());
afterAll(async () => {
  await api?.close();
});

const plain = () => context({ baseUrl: api.url }, { query: '/employees' });

describe('retries', () => {
  it('retries 503 twice, then succeeds; retries are not API calls', async () => {
    const capture = captureLogger();
    api.collection('/employees', rows, { paging: 'none' });
    api.fault('/employees', { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const ctx = context({ baseUrl: api.url }, { query: '/employees' }, { log: capture.log });
    expect(ids(await collect(extractRest(ctx, FAST)))).toEqual([1, 2, 3]);
    expect(api.calls('/employees')).toHaveLength(3);
    expect(ctx.progressCalls).toEqual([{ records: 3, apiCalls: 1 }]);
    const warnings = capture.entries().filter((e) => e.msg === 'retrying REST request');
    expect(warnings.map((w) => [w.request, w.attempt, w.reason])).toEqual([
      ['GET /employees', 1, 'HTTP 503 Service Unavailable'],
      ['GET /employees', 2, 'HTTP 503 Service Unavailable'],
    ]);
  });

  it('gives up after 5 attempts with the status, the request and the upstream text', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    const down = { kind: 'status', status: 503, body: `maintenance ${'x'.repeat(400)}` } as const;
    api.fault('/employees', down, down, down, down, down, down);
    const { error } = await collectFailure(
      extractRest(context({ baseUrl: api.url }, { query: '/employees?api_key=k3y' }), FAST),
    );
    expect(error.status).toBe('Failed');
    expect(error.message).toBe(
      `GET /employees on ${new URL(api.url).host} failed after 5 attempts: HTTP 503 Service Unavailable: maintenance ${'x'.repeat(288)}…`,
    );
    expect(api.calls('/employees')).toHaveLength(5);
  });

  it('retries a connection reset', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    api.fault('/employees', { kind: 'reset' });
    expect(ids(await collect(extractRest(plain(), FAST)))).toEqual([1, 2, 3]);
    expect(api.calls('/employees')).toHaveLength(2);
  });

  it('retries a refused connection, then reports it', async () => {
    const port = await freePort();
    const ctx = context({ baseUrl: `http://127.0.0.1:${port}` }, { query: '/employees' });
    const { error } = await collectFailure(extractRest(ctx, { retry: { maxAttempts: 3, baseDelayMs: 5 } }));
    // The host is named: which of a connector's hosts refused is the first thing an admin asks.
    expect(error.message).toBe(
      `GET /employees on 127.0.0.1:${port} failed after 3 attempts: connection refused (ECONNREFUSED)`,
    );
  });

  it('honours Retry-After in seconds on 429', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    api.fault('/employees', { kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
    const started = Date.now();
    expect(ids(await collect(extractRest(plain(), FAST)))).toEqual([1, 2, 3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(api.calls('/employees')).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP date', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    // HTTP dates have whole seconds: two seconds ahead, truncated, is more than one second away.
    const at = new Date(Date.now() + 2000).toUTCString();
    api.fault('/employees', { kind: 'status', status: 429, headers: { 'Retry-After': at } });
    const started = Date.now();
    expect(ids(await collect(extractRest(plain(), FAST)))).toEqual([1, 2, 3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(api.calls('/employees')).toHaveLength(2);
  });

  it('caps a long Retry-After', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    api.fault('/employees', { kind: 'status', status: 503, headers: { 'Retry-After': '3600' } });
    const started = Date.now();
    await collect(extractRest(plain(), { retry: { baseDelayMs: 5, maxRetryAfterMs: 50 } }));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('timeouts and stop requests', () => {
  it('times a slow answer out and retries it', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    api.fault('/employees', { kind: 'delay', ms: 1000 });
    const ctx = context({ baseUrl: api.url, timeout: '200ms' }, { query: '/employees' });
    const started = Date.now();
    expect(ids(await collect(extractRest(ctx, FAST)))).toEqual([1, 2, 3]);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('fails when every attempt times out', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    api.fault('/employees', { kind: 'delay', ms: 2000 }, { kind: 'delay', ms: 2000 });
    const ctx = context({ baseUrl: api.url, timeout: '150ms' }, { query: '/employees' });
    const { error } = await collectFailure(extractRest(ctx, { retry: { maxAttempts: 2, baseDelayMs: 5 } }));
    expect(error.message).toBe(
      `GET /employees on ${new URL(api.url).host} failed after 2 attempts: no complete answer within 150ms (spec.rest.timeout)`,
    );
  });

  it('stops promptly when the run is stopped, with the signal reason', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    api.fault('/employees', { kind: 'delay', ms: 5000 });
    const controller = new AbortController();
    const ctx = context({ baseUrl: api.url }, { query: '/employees' }, { signal: controller.signal });
    const reason = new Error('stop requested');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    await expect(collect(extractRest(ctx, FAST))).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('stops promptly during a backoff wait', async () => {
    api.collection('/employees', rows, { paging: 'none' });
    api.fault('/employees', { kind: 'status', status: 429, headers: { 'Retry-After': '30' } });
    const controller = new AbortController();
    const ctx = context({ baseUrl: api.url }, { query: '/employees' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await collect(extractRest(ctx, FAST)).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ExtractError);
    expect((error as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
