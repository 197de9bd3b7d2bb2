/**
 * A purpose-built REST API for tests, for the behaviours json-server does not have: next links in the
 * body (`@odata.nextLink`, `links.next`), Google-style page tokens, value and error markers, auth checks,
 * and fault injection. It runs in-process on a random port over a real socket (http or https), and
 * records every request so that tests can assert calls and headers.
 *
 *   const api = await RestFixtureServer.start();
 *   api.collection('/employees', rows, { paging: 'offset', marker: 'resultset' });
 *   api.route('GET', '/employees/:id/groups', (req, params) => ({ json: groupsOf[params.id] }));
 *   api.auth = { type: 'bearer', token: 't0k3n' };
 *   api.fault('/employees', { kind: 'status', status: 503 }, { kind: 'reset' });   // next two matching requests
 *   ... api.requests ...
 *   api.reset();   // between tests: requests, routes, faults, auth, public paths
 *   await api.close();
 */
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

export interface RecordedRequest {
  method: string;
  /** Raw request target: path and query string as sent. */
  url: string;
  /** Raw path, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Serialized as the JSON body. */
  json?: unknown;
  /** A raw body, sent as is (wins over json). */
  body?: string;
}

export type RouteHandler = (req: RecordedRequest, params: Record<string, string>) => Reply | Promise<Reply>;

/** One injected fault; each applies to one matching request, in the order given. */
export type Fault =
  /** Answer with this status instead (e.g. 503, or 429 with a Retry-After header). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Destroy the connection without answering (a reset). */
  | { kind: 'reset' }
  /** Answer normally after a delay (a slow server). */
  | { kind: 'delay'; ms: number }
  /** Send the first half of the normal body as a complete response: truncated JSON. */
  | { kind: 'truncate' }
  /** A canned answer instead of the normal one. */
  | { kind: 'reply'; reply: Reply };

export type AuthCheck =
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | { type: 'header'; name: string; value: string }
  | { type: 'verify'; verify: (req: RecordedRequest) => boolean | Promise<boolean> };

export interface CollectionOptions {
  /**
   * none: every row in one answer. offset: `offset`/`limit` parameters. page: `page`/`size` parameters.
   * nextLink: server-side pages with the next page's URL in the body. token: server-side pages with a
   * next-page token in the body, sent back as a query parameter (Google style).
   */
  paging: 'none' | 'offset' | 'page' | 'nextLink' | 'token';
  /** Page size when the client sends none (offset, page) or always (nextLink, token). Default 100. */
  pageSize?: number;
  /** Wrap the rows as `{ [marker]: rows, ...extra }`. Default: a bare array for none/offset/page, `value` otherwise. */
  marker?: string;
  /** Extra top-level fields of the wrapped body, such as `errors: null`. */
  extra?: Record<string, unknown>;
  /** Parameter names (defaults: offset, limit, page, size, pageToken). */
  params?: { start?: string; limit?: string; page?: string; size?: string; token?: string };
  /** page: number of the first page (default 1). */
  firstPage?: number;
  /** nextLink: property path of the link, as segments (default ['@odata.nextLink']; e.g. ['links', 'next']). */
  linkAt?: string[];
  /** nextLink: send path-relative links (`/x?cursor=2`) instead of absolute ones. */
  relativeLinks?: boolean;
  /** nextLink: send links to another origin (a hostile or misconfigured API). */
  linkOrigin?: string;
  /** token: property of the token (default nextPageToken). */
  tokenField?: string;
  /** offset/page: past the end, keep answering with the last page (an API that ignores paging). */
  repeatLastPage?: boolean;
  /** nextLink/token: the last page links back to the second page (a loop). */
  loop?: boolean;
  /** Put `errorValue` under `errorField` on this page (0-based), with status 200. */
  errorOnPage?: { page: number; field: string; value: unknown };
}

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

interface FaultQueue {
  match: (req: RecordedRequest) => boolean;
  faults: Fault[];
}

export class RestFixtureServer {
  readonly requests: RecordedRequest[] = [];
  /** Checked on every request when set, except on publicPaths; failures answer 401. */
  auth?: AuthCheck;
  /** Paths served without the auth check (a login endpoint on the same server). */
  readonly publicPaths = new Set<string>();
  private routes: Route[] = [];
  private faults: FaultQueue[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    /** http(s)://127.0.0.1:PORT */
    readonly url: string,
  ) {}

  /** Starts on a random port of 127.0.0.1; with `tls` it serves https with that key and certificate. */
  static async start(options: { tls?: { key: string; cert: string } } = {}): Promise<RestFixtureServer> {
    let fixture: RestFixtureServer | undefined;
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      fixture?.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) send(res, { status: 500, json: { error: String(e) } });
      });
    };
    const server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    fixture = new RestFixtureServer(server, `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`);
    return fixture;
  }

  /** Registers a handler; `:name` segments are captured (percent-decoded) into params. */
  route(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.unshift({ method: method.toUpperCase(), segments: pattern.split('/'), handler });
    return this;
  }

  /** Serves `rows` at `path` (GET) with the given paging style. */
  collection(path: string, rows: readonly unknown[], options: CollectionOptions): this {
    return this.route('GET', path, (req) => this.page(req, rows, options));
  }

  /** Queues faults for the next requests whose path equals `match` ('*': any request). */
  fault(match: string | ((req: RecordedRequest) => boolean), ...faults: Fault[]): this {
    const fn = typeof match === 'function' ? match : (r: RecordedRequest) => match === '*' || r.path === match;
    this.faults.push({ match: fn, faults: [...faults] });
    return this;
  }

  /** Requests whose path equals `path` (or all). */
  calls(path?: string): RecordedRequest[] {
    return path === undefined ? [...this.requests] : this.requests.filter((r) => r.path === path);
  }

  /** Forgets requests, routes, faults and the auth check. */
  reset(): void {
    this.requests.length = 0;
    this.routes = [];
    this.faults = [];
    this.auth = undefined;
    this.publicPaths.clear();
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url: target,
      path: queryAt >= 0 ? target.slice(0, queryAt) : target,
      query: new URLSearchParams(queryAt >= 0 ? target.slice(queryAt + 1) : ''),
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    this.requests.push(recorded);

    const fault = this.takeFault(recorded);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      send(res, { status: fault.status, headers: fault.headers, body: fault.body ?? '' });
      return;
    }
    if (fault?.kind === 'delay') {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.timers.delete(t);
          resolve();
        }, fault.ms);
        this.timers.add(t);
      });
      if (res.destroyed) return;
    }
    if (this.auth && !this.publicPaths.has(recorded.path) && !(await this.authorized(recorded))) {
      send(res, {
        status: 401,
        headers: { 'WWW-Authenticate': this.auth.type === 'basic' ? 'Basic realm="fixture"' : 'Bearer' },
        json: { error: 'unauthorized' },
      });
      return;
    }
    let reply: Reply;
    if (fault?.kind === 'reply') reply = fault.reply;
    else {
      const found = this.findRoute(recorded);
      reply = found
        ? await found.route.handler(recorded, found.params)
        : { status: 404, json: { error: `no route for ${recorded.method} ${recorded.path}` } };
    }
    if (fault?.kind === 'truncate') {
      const full = reply.body ?? JSON.stringify(reply.json);
      reply = { ...reply, json: undefined, body: full.slice(0, Math.floor(full.length / 2)) };
    }
    send(res, reply);
  }

  private takeFault(req: RecordedRequest): Fault | undefined {
    const queue = this.faults.find((q) => q.faults.length > 0 && q.match(req));
    return queue?.faults.shift();
  }

  private async authorized(req: RecordedRequest): Promise<boolean> {
    const auth = this.auth;
    const header = (name: string): string | undefined => {
      const v = req.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    switch (auth?.type) {
      case undefined:
        return true;
      case 'basic':
        return (
          header('authorization') === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
        );
      case 'bearer':
        return header('authorization') === `Bearer ${auth.token}`;
      case 'header':
        return header(auth.name) === auth.value;
      case 'verify':
        return auth.verify(req);
    }
  }

  private findRoute(req: RecordedRequest): { route: Route; params: Record<string, string> } | undefined {
    const segments = req.path.split('/');
    for (const route of this.routes) {
      if (route.method !== req.method || route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const matches = route.segments.every((s, i) => {
        if (s.startsWith(':')) {
          params[s.slice(1)] = decodeURIComponent(segments[i]);
          return true;
        }
        return s === segments[i];
      });
      if (matches) return { route, params };
    }
    return undefined;
  }

  /** One page of a collection in the configured style. */
  private page(req: RecordedRequest, rows: readonly unknown[], o: CollectionOptions): Reply {
    const size = (name: string | undefined): number => {
      const v = name ? req.query.get(name) : null;
      return v === null ? (o.pageSize ?? 100) : Number(v);
    };
    const p = o.params ?? {};
    let index = 0;
    let slice: readonly unknown[];
    let next: number | undefined;
    switch (o.paging) {
      case 'none':
        slice = rows;
        break;
      case 'offset':
      case 'page': {
        const limit = size(o.paging === 'offset' ? (p.limit ?? 'limit') : (p.size ?? 'size'));
        let start =
          o.paging === 'offset'
            ? Number(req.query.get(p.start ?? 'offset') ?? 0)
            : (Number(req.query.get(p.page ?? 'page') ?? o.firstPage ?? 1) - (o.firstPage ?? 1)) * limit;
        if (o.repeatLastPage && start >= rows.length && rows.length > 0) {
          start = Math.floor((rows.length - 1) / limit) * limit;
        }
        index = Math.floor(start / Math.max(1, limit));
        slice = rows.slice(start, start + limit);
        break;
      }
      case 'nextLink':
      case 'token': {
        const limit = o.pageSize ?? 100;
        const cursor = o.paging === 'nextLink' ? req.query.get('cursor') : req.query.get(p.token ?? 'pageToken');
        index = cursor ? Number(cursor.replace(/^tok-/, '')) : 0;
        slice = rows.slice(index * limit, (index + 1) * limit);
        const last = (index + 1) * limit >= rows.length;
        next = last ? (o.loop && rows.length > limit ? 1 : undefined) : index + 1;
        break;
      }
    }
    const marker = o.marker ?? (o.paging === 'nextLink' || o.paging === 'token' ? 'value' : undefined);
    const envelope: Record<string, unknown> = { ...o.extra };
    if (o.errorOnPage && o.errorOnPage.page === index) envelope[o.errorOnPage.field] = o.errorOnPage.value;
    if (next !== undefined && o.paging === 'nextLink') {
      const link = new URL(req.url, o.linkOrigin ?? this.url);
      link.searchParams.set('cursor', String(next));
      setPath(
        envelope,
        o.linkAt ?? ['@odata.nextLink'],
        o.relativeLinks ? `${link.pathname}${link.search}` : link.href,
      );
    }
    if (next !== undefined && o.paging === 'token') envelope[o.tokenField ?? 'nextPageToken'] = `tok-${next}`;
    if (!marker) return { json: slice };
    envelope[marker] = slice;
    return { json: envelope };
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    cur[key] ??= {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

function send(res: ServerResponse, reply: Reply): void {
  const body = reply.body ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
  res.writeHead(reply.status ?? 200, {
    ...(reply.body === undefined && reply.json !== undefined ? { 'Content-Type': 'application/json' } : {}),
    'Content-Length': Buffer.byteLength(body),
    ...reply.headers,
  });
  res.end(body);
}
