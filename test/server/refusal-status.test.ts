/**
 * Typed refusals (model/errors.ts) become HTTP answers in one place (server/http-server.ts): each kind's
 * status, the message as `error`, and Retry-After when retrying can help. Through the real HTTP server
 * on a socket.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { InvalidInvocationError, Refusal, type RefusalKind } from '../../src/model/errors.js';
import { TokenAuth } from '../../src/server/auth.js';
import { HttpServer, REFUSAL_STATUS } from '../../src/server/http-server.js';
import { Metrics } from '../../src/server/metrics.js';

let server: HttpServer;
let base: string;

beforeAll(async () => {
  server = new HttpServer({ log: silentLogger, auth: new TokenAuth([]), metrics: new Metrics() });
  server.route('GET', '/refuse/{kind}', false, async ({ params, query }) => {
    const retry = query.get('retryAfter');
    throw new Refusal(params.kind as RefusalKind, `refused: ${params.kind}`, retry ? Number(retry) : undefined);
  });
  server.route('GET', '/invalid', false, async () => {
    throw new InvalidInvocationError('input.url is not a valid URL');
  });
  server.route('GET', '/crash', false, async () => {
    throw new Error('not a refusal');
  });
  const address = await server.listen('127.0.0.1:0');
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await server.close();
});

async function get(path: string) {
  const r = await request(`${base}${path}`);
  return { status: r.statusCode, retryAfter: r.headers['retry-after'], body: (await r.body.json()) as unknown };
}

describe('refusal → HTTP status', () => {
  it.each([
    ['invalid', 400, undefined],
    ['notFound', 404, undefined],
    ['conflict', 409, undefined],
    ['mismatch', 422, undefined],
    ['busy', 429, '1'],
    ['overloaded', 503, '1'],
    ['unavailable', 503, '1'],
  ] as const)('%s answers %i (Retry-After %s)', async (kind, status, retryAfter) => {
    expect(REFUSAL_STATUS[kind]).toBe(status);
    const r = await get(`/refuse/${kind}`);
    expect(r).toEqual({ status, retryAfter, body: { error: `refused: ${kind}` } });
  });

  it('sends the Retry-After the refusal asks for, in whole seconds', async () => {
    expect(await get('/refuse/busy?retryAfter=7')).toMatchObject({ status: 429, retryAfter: '7' });
    expect(await get('/refuse/overloaded?retryAfter=2.2')).toMatchObject({ status: 503, retryAfter: '3' });
    expect(await get('/refuse/conflict?retryAfter=30')).toMatchObject({ status: 409, retryAfter: '30' });
  });

  it('answers an InvalidInvocationError with 400 and its message', async () => {
    expect(await get('/invalid')).toEqual({
      status: 400,
      retryAfter: undefined,
      body: { error: 'input.url is not a valid URL' },
    });
  });

  it('still answers anything else with 500 and no detail', async () => {
    expect(await get('/crash')).toEqual({ status: 500, retryAfter: undefined, body: { error: 'internal error' } });
  });
});
