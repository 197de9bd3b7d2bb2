/**
 * The transport's HTTP client and its retry interceptor against a real HTTP server on a socket (the REST fixture,
 * which injects 503/429 with Retry-After, resets and delays): what is retried, how long it waits, what the server
 * sees, and that an abort stops everything at once. Waits are driven by the onRetry event, never by sleeps.
 */
import { Writable } from 'node:stream';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { ExtractError } from '../../src/model/errors.js';
import {
  errorCode,
  HttpClient,
  type HttpClientOptions,
  type HttpMethod,
  type HttpRequest,
  NO_RETRY,
  RESET_ONCE,
  type RetryEvent,
} from '../../src/transport/http-client.js';
import { SecretScrubber } from '../../src/transport/scrub.js';
import { captureLogger } from '../peers/log-capture.js';
import { freePort } from '../peers/ports.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';

let api: RestFixtureServer;
let dispatcher: Agent;

beforeAll(async () => {
  api = await RestFixtureServer.start();
  dispatcher = new Agent();
});
afterEach(() => api.reset());
afterAll(async () => {
  await dispatcher?.close();
  await api?.close();
});

/** Fast backoff unless a test says otherwise; Retry-After capped at 60 s as in production. */
function client(extra: Partial<HttpClientOptions> = {}): HttpClient {
  return new HttpClient({
    dispatcher,
    timeoutMs: 5_000,
    signal: new AbortController().signal,
    retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 40, maxRetryAfterMs: 60_000 },
    log: captureLogger().log,
    scrub: (t) => t,
    ...extra,
  });
}

const request = (method: HttpMethod, path: string, body?: string): HttpRequest => ({
  method,
  url: new URL(`${api.url}${path}`),
  headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
  body,
});

const ok = (method: string, path: string): void => {
  api.route(method, path, (req) => ({ json: { ok: true, body: req.body } }));
};

describe('statuses', () => {
  it('503 with Retry-After: 0, then 200: one retry, without waiting', async () => {
    ok('GET', '/x');
    api.fault('/x', { kind: 'status', status: 503, body: 'busy', headers: { 'Retry-After': '0' } });
    const events: RetryEvent[] = [];
    const res = await client().exchange(request('GET', '/x'), { onRetry: (e) => events.push(e) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true, body: '' });
    expect(api.calls('/x')).toHaveLength(2);
    expect(events.map(({ attempt, delayMs, reason, status }) => ({ attempt, delayMs, reason, status }))).toEqual([
      { attempt: 1, delayMs: 0, reason: 'HTTP 503 Service Unavailable: busy', status: 503 },
    ]);
  });

  it('503 with Retry-After: 1 waits one second before the single retry', async () => {
    ok('GET', '/x');
    api.fault('/x', { kind: 'status', status: 503, headers: { 'Retry-After': '1' } });
    const delays: number[] = [];
    let retriedAt = 0;
    const res = await client().exchange(request('GET', '/x'), {
      onRetry: (e) => {
        delays.push(e.delayMs);
        retriedAt = performance.now();
      },
    });
    const waited = performance.now() - retriedAt;
    expect(res.status).toBe(200);
    expect(delays).toEqual([1000]);
    expect(waited).toBeGreaterThanOrEqual(990);
    expect(api.calls('/x')).toHaveLength(2);
  });

  it('Retry-After as an HTTP date: a past date retries at once, a later one waits until then, capped', async () => {
    ok('GET', '/x');
    api.fault(
      '/x',
      { kind: 'status', status: 503, headers: { 'Retry-After': new Date(Date.now() - 60_000).toUTCString() } },
      { kind: 'status', status: 429, headers: { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() } },
    );
    const delays: number[] = [];
    const c = client({ retry: { maxAttempts: 3, baseDelayMs: 5_000, maxDelayMs: 5_000, maxRetryAfterMs: 150 } });
    const res = await c.exchange(request('GET', '/x'), { onRetry: (e) => delays.push(e.delayMs) });
    expect(res.status).toBe(200);
    // Not the 5 s backoff: the date says when; 30 s ahead is cut to maxRetryAfterMs.
    expect(delays).toEqual([0, 150]);
    expect(api.calls('/x')).toHaveLength(3);
  });

  it('429 without Retry-After backs off exponentially with jitter (half fixed, half random)', async () => {
    ok('GET', '/x');
    const tooMany = { kind: 'status', status: 429 } as const;
    api.fault('/x', tooMany, tooMany);
    const delays: number[] = [];
    const c = client({ retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 1_000, maxRetryAfterMs: 60_000 } });
    expect((await c.exchange(request('GET', '/x'), { onRetry: (e) => delays.push(e.delayMs) })).status).toBe(200);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(10);
    expect(delays[0]).toBeLessThanOrEqual(20);
    expect(delays[1]).toBeGreaterThanOrEqual(20);
    expect(delays[1]).toBeLessThanOrEqual(40);
    expect(api.calls('/x')).toHaveLength(3);
  });

  it('attempts run out: send throws with the count and the upstream text; exchange returns the last answer', async () => {
    ok('GET', '/x');
    const down = { kind: 'status', status: 503, body: 'down', headers: { 'Retry-After': '0' } } as const;
    api.fault('/x', down, down, down, down, down, down);
    await expect(client().send(request('GET', '/x'))).rejects.toThrow(
      new ExtractError(
        `GET /x on ${new URL(api.url).host} failed after 3 attempts: HTTP 503 Service Unavailable: down`,
      ),
    );
    expect(api.calls('/x')).toHaveLength(3);
    const last = await client().exchange(request('GET', '/x'));
    expect([last.status, last.body]).toEqual([503, 'down']);
    expect(api.calls('/x')).toHaveLength(6);
  });

  it('a 404 (or any other answer below 500 but 429) is returned at once', async () => {
    const res = await client().send(request('GET', '/missing'));
    expect(res.status).toBe(404);
    expect(api.requests).toHaveLength(1);
  });

  it('event calls (RESET_ONCE): a 503 is answered as it came, with no retry', async () => {
    ok('GET', '/x');
    api.fault('/x', { kind: 'status', status: 503, headers: { 'Retry-After': '0' } });
    const res = await client().exchange(request('GET', '/x'), { retry: RESET_ONCE, attemptTimeout: false });
    expect(res.status).toBe(503);
    expect(api.calls('/x')).toHaveLength(1);
  });
});

describe('connection resets', () => {
  it.each(['POST', 'PATCH'] as const)(
    'event calls: a %s whose connection is reset after it was sent is not sent again',
    async (method) => {
      ok(method, '/users');
      api.fault('/users', { kind: 'reset' });
      const retried: RetryEvent[] = [];
      const error = await client()
        .exchange(request(method, '/users', '{"name":"a"}'), { retry: RESET_ONCE, onRetry: (e) => retried.push(e) })
        .catch((e: unknown) => e);
      expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(errorCode(error));
      expect(retried).toEqual([]);
      // The server did receive it, body and all: sending it again could create the user twice.
      expect(api.calls('/users').map((r) => [r.method, r.body])).toEqual([[method, '{"name":"a"}']]);
    },
  );

  it.each(['GET', 'PUT', 'DELETE'] as const)(
    'event calls: a %s is sent once more after a reset, at once',
    async (m) => {
      ok(m, '/users/1');
      api.fault('/users/1', { kind: 'reset' });
      const delays: number[] = [];
      const res = await client().exchange(request(m, '/users/1'), {
        retry: RESET_ONCE,
        onRetry: (e) => delays.push(e.delayMs),
      });
      expect(res.status).toBe(200);
      expect(delays).toEqual([0]);
      expect(api.calls('/users/1').map((r) => r.method)).toEqual([m, m]);
    },
  );

  it('event calls: a second reset of an idempotent call is thrown', async () => {
    ok('PUT', '/users/1');
    api.fault('/users/1', { kind: 'reset' }, { kind: 'reset' });
    const retried: number[] = [];
    const error = await client()
      .exchange(request('PUT', '/users/1', '{}'), { retry: RESET_ONCE, onRetry: (e) => retried.push(e.delayMs) })
      .catch((e: unknown) => e);
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(errorCode(error));
    expect(retried).toEqual([0]);
    expect(api.calls('/users/1')).toHaveLength(2);
  });

  it('event calls: a refused connection is not retried (only resets are)', async () => {
    const port = await freePort();
    const retried: RetryEvent[] = [];
    const error = await client()
      .exchange(
        { method: 'GET', url: new URL(`http://127.0.0.1:${port}/x`), headers: {} },
        { retry: RESET_ONCE, onRetry: (e) => retried.push(e) },
      )
      .catch((e: unknown) => e);
    expect(errorCode(error)).toBe('ECONNREFUSED');
    expect(retried).toEqual([]);
  });

  it('scheduled extracts: a reset GET is retried with backoff; NO_RETRY sends once', async () => {
    ok('GET', '/x');
    api.fault('/x', { kind: 'reset' });
    expect((await client().send(request('GET', '/x'))).status).toBe(200);
    expect(api.calls('/x')).toHaveLength(2);
    api.fault('/x', { kind: 'reset' });
    await expect(client().exchange(request('GET', '/x'), { retry: NO_RETRY })).rejects.toThrow();
    expect(api.calls('/x')).toHaveLength(3);
  });
});

describe('abort, timeouts, origins, scrubbing', () => {
  it.each(['send', 'exchange'] as const)(
    'an abort during the backoff stops %s at once with the signal’s reason',
    async (how) => {
      ok('GET', '/x');
      api.fault('/x', { kind: 'status', status: 503, headers: { 'Retry-After': '30' } });
      const controller = new AbortController();
      const reason = new Error('run stopped');
      const delays: number[] = [];
      // The retry event fires right before the wait: the abort lands at the start of the 30 s.
      // send() has no onRetry option: its retry log line is the event.
      const onLogLine = new Writable({
        write(_chunk, _encoding, callback) {
          delays.push(-1);
          setImmediate(() => controller.abort(reason));
          callback();
        },
      });
      const c = client({ signal: controller.signal, log: createLogger({ level: 'warn', destination: onLogLine }) });
      const started = performance.now();
      const pending =
        how === 'send'
          ? c.send(request('GET', '/x'))
          : c.exchange(request('GET', '/x'), {
              onRetry: (e) => {
                delays.push(e.delayMs);
                setImmediate(() => controller.abort(reason));
              },
            });
      await expect(pending).rejects.toBe(reason);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(delays).toEqual([how === 'send' ? -1 : 30_000]);
      // No retry went out after the abort.
      expect(api.calls('/x')).toHaveLength(1);
    },
  );

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(client({ signal: controller.signal }).send(request('GET', '/x'))).rejects.toThrow('gone');
    expect(api.requests).toHaveLength(0);
  });

  it('the per-attempt timeout is a retryable failure named after spec.rest.timeout', async () => {
    ok('GET', '/slow');
    api.fault('/slow', { kind: 'delay', ms: 2_000 }, { kind: 'delay', ms: 2_000 });
    const c = client({ timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 0 } });
    await expect(c.send(request('GET', '/slow'))).rejects.toThrow(
      new ExtractError(
        `GET /slow on ${new URL(api.url).host} failed after 2 attempts: no complete answer within 100ms (spec.rest.timeout)`,
      ),
    );
    expect(api.calls('/slow')).toHaveLength(2);
  });

  it('a request off the allowed origins is refused before anything is sent', async () => {
    const c = client({ origins: new Set(['https://api.example.com']) });
    await expect(c.send(request('GET', '/x'))).rejects.toThrow(
      new ExtractError(
        `GET /x on ${api.url} is outside the connector's origins (https://api.example.com); ` +
          "refusing to send the connector's credentials there",
      ),
    );
    expect(api.requests).toHaveLength(0);
  });

  it('retry log lines are scrubbed of secret values', async () => {
    ok('GET', '/x');
    api.fault('/x', { kind: 'status', status: 503, body: 'bad key s3cr3t-value', headers: { 'Retry-After': '0' } });
    const capture = captureLogger();
    const scrubber = new SecretScrubber();
    scrubber.add('s3cr3t-value');
    await client({ log: capture.log, scrub: (t) => scrubber.scrub(t) }).send(request('GET', '/x'));
    const lines = capture.entries().filter((e) => e.msg === 'retrying REST request');
    expect(lines.map((l) => [l.request, l.attempt, l.delayMs, l.reason])).toEqual([
      ['GET /x', 1, 0, 'HTTP 503 Service Unavailable: bad key [redacted]'],
    ]);
    expect(capture.text()).not.toContain('s3cr3t-value');
  });
});
