/**
 * HTTP of the simulated REST API (node:http or node:https): routing below `/rest-api/itsm/v1`, the login form,
 * bearer authentication, the request log (the login password masked), call counts per kind and injected
 * faults. What each call means is cards-api.ts's.
 *
 * Choices where the reference is silent:
 * - Errors are ApiException `{code, message, error, url, timestamp}`: `error` is the status's reason phrase,
 *   `url` the request path without the query, `timestamp` ISO-8601.
 * - Login: 200 `{code: 200, message: "Login successful", timestamp, token: "Bearer <jwt>"}` and the header
 *   `Authorization: Bearer <jwt>`; wrong credentials 401 "Invalid login or password"; a body that is not a
 *   form with both fields 400.
 * - A missing, forged or expired token is 401 ("JWT token is missing" / "JWT token is invalid" / "JWT token has
 *   expired") with `WWW-Authenticate: Bearer`.
 * - `/echo` and `/echo/jwt` answer ApiResponse `{code: 200, message: <message>, timestamp}`; `message` is
 *   required (400 without it).
 * - A known path with another method is 405; an unknown path is 404.
 * - Faults act before authentication (as a proxy or a throttle in front of the API would), unless `after` is
 *   set: then the call is carried out and its answer replaced, dropped or delayed (the write happened, the
 *   answer was lost or late). A faulted request is logged with the fault's status (0 for a dropped one).
 * - 429 always carries `Retry-After` (default 1 s) and `{message: "Too many requests, retry in N seconds",
 *   url, timestamp}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  attributeCall,
  bulkPut,
  type CallContext,
  createCard,
  deleteCard,
  describeTemplate,
  getCard,
  HttpError,
  listCards,
  patchCard,
  type Reply,
  streamCards,
  templates,
} from './cards-api.js';
import { downloadFile, uploadFile } from './files.js';
import type { TokenIssuer } from './jwt.js';
import type { Store } from './store.js';

export const BASE_PATH = '/rest-api/itsm/v1';
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export type RouteKind =
  | 'login'
  | 'echo'
  | 'templates'
  | 'list'
  | 'stream'
  | 'get'
  | 'create'
  | 'bulkPut'
  | 'patch'
  | 'delete'
  | 'attr'
  | 'file'
  | 'other';

export interface RecordedRequest {
  method: string;
  /** Decoded path without the query, base included. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON, the login form with the password as `***`, or the raw text. */
  body?: unknown;
  status?: number;
  kind: RouteKind;
  /** Date.now() when it arrived. */
  time: number;
}

export interface Fault {
  method?: string;
  /** Tested against the full path (base included, no query). */
  path?: RegExp;
  status?: 429 | 500 | 502 | 503 | 504 | 401 | 403 | number;
  /** Seconds, sent as Retry-After (429 gets 1 by default). */
  retryAfter?: number;
  /** How many requests it hits (default 1; Infinity for all). */
  times?: number;
  /** Replaces the default body. */
  body?: unknown;
  /** Waits this long before answering (with `after`: after carrying out the call). */
  delayMs?: number;
  /**
   * Carry out the call first, then answer with the fault's status, or drop the connection (`reset`), or,
   * with neither, send the real answer only after `delayMs`: the change is made, the answer is lost or late.
   */
  after?: boolean;
  /** Destroy the connection instead of answering. */
  reset?: boolean;
}

export interface User {
  login: string;
  password: string;
  /** Template codes the user may write; undefined: all. */
  canWrite?: string[];
  /** Attribute codes per template the user may not see: read as `values: []`, empty to filters, refused on write. */
  hidden?: Record<string, string[]>;
}

export interface ServerState {
  store: Store;
  tokens: TokenIssuer;
  users: User[];
  now: () => number;
  requests: RecordedRequest[];
  counts: Record<RouteKind, number>;
  faults: Array<Fault & { left: number }>;
  /** Called with each request once it has been carried out (or faulted), before its answer is sent. */
  listeners: Array<(request: RecordedRequest) => void>;
  maxFileBytes: number;
  /** Extra handler for test-control paths outside the base (main.ts); true when it answered. */
  control?: (req: IncomingMessage, res: ServerResponse, body: string) => boolean;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const reason = (status: number): string => REASONS[status] ?? 'Error';

type Route = { kind: RouteKind; auth: boolean; run: (ctx: CallContext, raw: Buffer) => Reply | Promise<Reply> };

/** The route of a path below the base and a method: undefined (404) or 'method' (405). */
function route(method: string, segs: string[]): Route | 'method' | undefined {
  const [a, b, c, d, e, f] = segs;
  const n = segs.length;
  const pick = (table: Record<string, Route>): Route | 'method' => table[method] ?? 'method';
  if (n === 2 && a === 'users' && b === 'login')
    return pick({ POST: { kind: 'login', auth: false, run: () => ({ status: 500 }) } });
  if (a === 'echo' && (n === 1 || (n === 2 && b === 'jwt'))) {
    return pick({ GET: { kind: 'echo', auth: n === 2, run: (ctx) => echo(ctx) } });
  }
  if (a !== 'dc') return undefined;
  if (n === 1) return pick({ GET: { kind: 'templates', auth: true, run: templates } });
  if (n === 2) return pick({ GET: { kind: 'templates', auth: true, run: (ctx) => describeTemplate(ctx, b) } });
  if (c !== 'data') return undefined;
  if (n === 3) {
    return pick({
      GET: { kind: 'list', auth: true, run: (ctx) => listCards(ctx, b) },
      POST: { kind: 'create', auth: true, run: (ctx) => createCard(ctx, b) },
      PUT: { kind: 'bulkPut', auth: true, run: (ctx) => bulkPut(ctx, b) },
    });
  }
  if (n === 4 && d === 'stream')
    return pick({ GET: { kind: 'stream', auth: true, run: (ctx) => streamCards(ctx, b) } });
  if (n === 4) {
    return pick({
      GET: { kind: 'get', auth: true, run: (ctx) => getCard(ctx, b, d) },
      PATCH: { kind: 'patch', auth: true, run: (ctx) => patchCard(ctx, b, d) },
      DELETE: { kind: 'delete', auth: true, run: (ctx) => deleteCard(ctx, b, d) },
    });
  }
  if (n === 5) {
    const attr: Route = { kind: 'attr', auth: true, run: (ctx) => attributeCall(ctx, method, b, d, e) };
    return pick({ GET: attr, PUT: attr, POST: attr, DELETE: attr });
  }
  if (f !== 'file') return undefined;
  if (n === 6) {
    const upload: Route = {
      kind: 'file',
      auth: true,
      run: (ctx, raw) => uploadFile(ctx, raw, ctx.contentType, { template: b, id: d, attr: e }),
    };
    return pick({ POST: upload });
  }
  if (n === 7) {
    const location = segs[6];
    return pick({
      GET: { kind: 'file', auth: true, run: (ctx) => downloadFile(ctx, { template: b, id: d, attr: e, location }) },
    });
  }
  return undefined;
}

function echo(ctx: CallContext): Reply {
  const message = ctx.query.get('message');
  if (message === null) throw new HttpError(400, "Required request parameter 'message' is not present");
  return { status: 200, body: { code: 200, message, timestamp: new Date(ctx.now()).toISOString() } };
}

function apiException(status: number, message: string, url: string, now: number): Record<string, unknown> {
  return { code: status, message, error: reason(status), url, timestamp: new Date(now).toISOString() };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'The request is too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function loggedBody(kind: RouteKind, raw: Buffer, contentType: string): unknown {
  if (raw.length === 0) return undefined;
  if (kind === 'file') return `(${raw.length} bytes of ${contentType || 'no content type'})`;
  const text = raw.toString('utf8');
  if (kind === 'login' || contentType.includes('x-www-form-urlencoded')) {
    const form = Object.fromEntries(new URLSearchParams(text));
    if ('password' in form) form.password = '***';
    return form;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function login(state: ServerState, text: string, contentType: string, url: string): Reply {
  if (!contentType.includes('application/x-www-form-urlencoded')) {
    throw new HttpError(415, 'Login takes application/x-www-form-urlencoded fields login and password');
  }
  const form = new URLSearchParams(text);
  const name = form.get('login');
  const password = form.get('password');
  if (!name || password === null) throw new HttpError(400, 'login and password are required');
  const user = state.users.find((u) => u.login === name && u.password === password);
  if (!user) return { status: 401, body: apiException(401, 'Invalid login or password', url, state.now()) };
  const token = `Bearer ${state.tokens.issue(user.login)}`;
  return {
    status: 200,
    headers: { authorization: token },
    body: { code: 200, message: 'Login successful', timestamp: new Date(state.now()).toISOString(), token },
  };
}

function authenticate(state: ServerState, req: IncomingMessage): User {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const check = state.tokens.verify(m?.[1]);
  const user = check.ok ? state.users.find((u) => u.login === check.login) : undefined;
  if (check.ok && user) return user;
  const why =
    !check.ok && check.reason === 'expired'
      ? 'has expired'
      : !check.ok && check.reason === 'missing'
        ? 'is missing'
        : 'is invalid';
  throw new HttpError(401, `JWT token ${why}`);
}

function takeFault(state: ServerState, method: string, path: string): (Fault & { left: number }) | undefined {
  const fault = state.faults.find(
    (f) => f.left > 0 && (!f.method || f.method.toUpperCase() === method) && (!f.path || f.path.test(path)),
  );
  if (fault) fault.left--;
  return fault;
}

function faultReply(fault: Fault, url: string, now: number): Reply {
  const status = fault.status ?? 503;
  const headers: Record<string, string> = {};
  const retryAfter = fault.retryAfter ?? (status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  let body = fault.body;
  if (body === undefined) {
    body =
      status === 429
        ? { message: `Too many requests, retry in ${retryAfter} seconds`, url, timestamp: new Date(now).toISOString() }
        : apiException(status, status === 403 ? 'User is forbidden to update the resource' : reason(status), url, now);
  }
  return { status, headers, body };
}

async function send(res: ServerResponse, reply: Reply): Promise<void> {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.stream) {
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json' });
    await reply.stream(
      (chunk) =>
        new Promise<void>((resolve) => {
          if (res.write(chunk)) resolve();
          else res.once('drain', () => resolve());
        }),
    );
    res.end();
    return;
  }
  if (reply.raw) {
    res.writeHead(reply.status, { ...headers, 'content-length': String(reply.raw.length) });
    res.end(reply.raw);
    return;
  }
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

async function dispatch(
  state: ServerState,
  req: IncomingMessage,
  r: Route,
  raw: Buffer,
  path: string,
  query: URLSearchParams,
): Promise<Reply> {
  const contentType = String(req.headers['content-type'] ?? '');
  if (r.kind === 'login') return login(state, raw.toString('utf8'), contentType, path);
  const user = r.auth ? authenticate(state, req) : undefined;
  let body: unknown;
  if (raw.length > 0 && r.kind !== 'file') {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'Invalid JSON.');
    }
  }
  const proto = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  const ctx: CallContext = {
    store: state.store,
    login: user?.login ?? '',
    now: state.now,
    base: `${proto}://${req.headers.host ?? '127.0.0.1'}${BASE_PATH}`,
    url: path,
    query,
    body,
    contentType,
    canWrite: (t) => !user?.canWrite || user.canWrite.includes(t),
    hidden: (t) => new Set(user?.hidden?.[t] ?? []),
    maxFileBytes: state.maxFileBytes,
  };
  return r.run(ctx, raw);
}

function segments(path: string): string[] | undefined {
  if (path !== BASE_PATH && !path.startsWith(`${BASE_PATH}/`)) return undefined;
  try {
    return path.slice(BASE_PATH.length).split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

export function createHandler(state: ServerState) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator');
    const path = url.pathname;
    let raw: Buffer = Buffer.alloc(0);
    try {
      raw = await readBody(req);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 400;
      await send(res, { status, body: apiException(status, (e as Error).message, path, state.now()) });
      return;
    }
    if (state.control?.(req, res, raw.toString('utf8'))) return;
    const segs = segments(path);
    const r = segs ? route(method, segs) : undefined;
    const kind: RouteKind = r && r !== 'method' ? r.kind : 'other';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const record: RecordedRequest = {
      method,
      path: decodeSafe(path),
      query: Object.fromEntries(url.searchParams),
      headers,
      body: loggedBody(kind, raw, String(req.headers['content-type'] ?? '')),
      kind,
      time: Date.now(),
    };
    state.requests.push(record);
    state.counts[kind]++;
    const reply = await answer(state, req, res, { r, method, path, raw, query: url.searchParams }, record);
    if (!reply) return;
    try {
      await send(res, reply);
    } catch {
      res.destroy();
    }
  };
}

function decodeSafe(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

async function answer(
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  o: { r: Route | 'method' | undefined; method: string; path: string; raw: Buffer; query: URLSearchParams },
  record: RecordedRequest,
): Promise<Reply | undefined> {
  const fault = takeFault(state, o.method, o.path);
  const delay = (): Promise<unknown> | undefined =>
    fault?.delayMs ? new Promise((resolve) => setTimeout(resolve, fault.delayMs).unref()) : undefined;
  if (fault && !fault.after) {
    await delay();
    const faulted = faultOrReset(res, fault, o.path, state.now());
    carriedOut(state, record, faulted?.status ?? 0);
    return faulted;
  }
  let reply: Reply;
  try {
    if (o.r === undefined) throw new HttpError(404, `No endpoint ${o.method} ${o.path}`);
    if (o.r === 'method') throw new HttpError(405, `Request method '${o.method}' is not supported by ${o.path}`);
    reply = await dispatch(state, req, o.r, o.raw, o.path, o.query);
  } catch (err) {
    const e = err instanceof HttpError ? err : new HttpError(500, (err as Error).message);
    const headers: Record<string, string> = e.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
    reply = {
      status: e.status,
      headers,
      body: { ...apiException(e.status, e.message, o.path, state.now()), ...e.extra },
    };
  }
  if (!fault) {
    carriedOut(state, record, reply.status);
    return reply;
  }
  // The call is done; what the client gets is held back, replaced or lost.
  const replaced = fault.reset || fault.status !== undefined;
  carriedOut(state, record, fault.reset ? 0 : (fault.status ?? reply.status));
  await delay();
  return replaced ? faultOrReset(res, fault, o.path, state.now()) : reply;
}

/** Records the status and tells waiters (waitForRequest) that the call has been carried out. */
function carriedOut(state: ServerState, record: RecordedRequest, status: number): void {
  record.status = status;
  for (const listener of [...state.listeners]) listener(record);
}

function faultOrReset(res: ServerResponse, fault: Fault, path: string, now: number): Reply | undefined {
  if (fault.reset) {
    res.socket?.destroy();
    return undefined;
  }
  return faultReply(fault, path, now);
}
