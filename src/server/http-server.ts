/**
 * The controller's one HTTP listener: /healthz, /readyz, /metrics, the read-only status API under
 * /api/v1, and the operation endpoints the CLI verbs call (authenticated). Event task invocation
 * mounts here too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import { Refusal, type RefusalKind } from '../model/errors.js';
import type { TokenAuth } from './auth.js';
import type { Metrics } from './metrics.js';

/** An HTTP answer with no Refusal kind (401, 405, 413, 415, /readyz's 503): built in `server/` only. */
export interface ApiError {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

export type Handler = (ctx: {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  caller?: string;
  body: () => Promise<unknown>;
}) => Promise<{ status?: number; body: unknown; headers?: Record<string, string> }>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  auth: boolean;
  handler: Handler;
}

export const httpError = (status: number, message: string, headers?: Record<string, string>): ApiError => ({
  status,
  message,
  headers,
});

/**
 * The HTTP status of each kind of Refusal (model/errors.ts). Layers below `server/` refuse in these words; this
 * table, read only by `refusalAnswer`, is the one place they become HTTP codes.
 */
export const REFUSAL_STATUS: Readonly<Record<RefusalKind, number>> = {
  invalid: 400,
  notFound: 404,
  conflict: 409,
  mismatch: 422,
  busy: 429,
  overloaded: 503,
  unavailable: 503,
};

/** Seconds a `busy` or `overloaded` refusal that does not say otherwise asks the caller to wait. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** The HTTP answer to a Refusal: its kind's status, its message, and Retry-After when retrying can help. */
export function refusalAnswer(refusal: Refusal): ApiError {
  const retryAfter = refusal.retryAfterSeconds ?? (refusal.retryable ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
  return {
    status: REFUSAL_STATUS[refusal.kind],
    message: refusal.message,
    headers: retryAfter === undefined ? undefined : { 'retry-after': String(Math.max(0, Math.ceil(retryAfter))) },
  };
}

// A user's photo for Graph (at most 4 MB) arrives as base64 inside the invocation's JSON: 4 MB is 5.6 MB so.
const MAX_BODY = 6 * 1024 * 1024;

export class HttpServer {
  private readonly routes: Route[] = [];
  private readonly server: Server;
  ready = false;

  constructor(private readonly opts: { log: Logger; auth: TokenAuth; metrics: Metrics; maxBodyBytes?: number }) {
    this.server = createServer((req, res) => {
      this.dispatch(req, res).catch((e) => {
        opts.log.error({ err: e }, 'request failed');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      });
    });
    this.route('GET', '/healthz', false, async () => ({ body: { status: 'ok' } }));
    this.route('GET', '/readyz', false, async () => {
      if (!this.ready) throw httpError(503, 'the controller has not finished its first sync');
      return { body: { status: 'ready' } };
    });
  }

  /** Registers a route; `{name}` segments become params. */
  route(method: string, path: string, auth: boolean, handler: Handler): void {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    this.routes.push({ method, pattern, names, auth, handler });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': this.opts.metrics.registry.contentType });
      res.end(await this.opts.metrics.registry.metrics());
      return;
    }
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) return send(res, 404, { error: `no such endpoint: ${url.pathname}` });
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      res.setHeader('allow', matching.map((r) => r.method).join(', '));
      return send(res, 405, { error: `${req.method} is not allowed on ${url.pathname}` });
    }
    let caller: string | undefined;
    if (route.auth) {
      caller = this.opts.auth.authenticate(req);
      if (!caller) {
        res.setHeader('www-authenticate', 'Bearer realm="provisio"');
        const why = this.opts.auth.configured
          ? 'a valid bearer token is required (Authorization: Bearer <token>)'
          : 'no API tokens are configured on the controller (PROVISIO_API_TOKENS or --api-token-file)';
        return send(res, 401, { error: why });
      }
    }
    const m = route.pattern.exec(url.pathname)!;
    let params: Record<string, string>;
    try {
      params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
    } catch {
      return send(res, 400, { error: `malformed percent-encoding in ${url.pathname}` });
    }
    try {
      const out = await route.handler({
        req,
        res,
        params,
        query: url.searchParams,
        caller,
        body: () => readJson(req, this.opts.maxBodyBytes ?? MAX_BODY),
      });
      send(res, out.status ?? 200, out.body, out.headers);
    } catch (e) {
      if (e instanceof Refusal) {
        const answer = refusalAnswer(e);
        return send(res, answer.status, { error: answer.message }, answer.headers);
      }
      const err = e as Partial<ApiError>;
      if (typeof err.status === 'number') return send(res, err.status, { error: err.message }, err.headers);
      throw e;
    }
  }

  /** Starts listening on `host:port` or `:port` (all interfaces); answers the bound address. */
  async listen(address: string): Promise<AddressInfo> {
    const m = /^(.*):(\d+)$/.exec(address);
    if (!m) throw new Error(`--listen ${address}: expected HOST:PORT or :PORT`);
    const host = m[1] === '' ? '0.0.0.0' : m[1].replace(/^\[|\]$/g, '');
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(Number(m[2]), host, () => resolve());
    });
    return this.server.address() as AddressInfo;
  }

  /**
   * Stops listening; requests in flight get a short grace period, then every connection is closed (a client that
   * never finishes its request must not hold up a shutdown).
   */
  async close(graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const force = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(force);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Reads and parses a JSON body of at most `limit` bytes (events, not an async iterator: cheaper per request). */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(httpError(413, `request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('error', (e) => {
      failed = true;
      reject(e);
    });
    req.once('end', () => {
      if (failed) return;
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new Refusal('invalid', `request body is not valid JSON: ${(e as Error).message}`));
      }
    });
  });
}
