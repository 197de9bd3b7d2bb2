/**
 * A SCIM list server (node:http) for what SCIMMY does not do: `itemsPerPage` that says anything, a page cap
 * below the requested count, a `totalResults` that changes while a run reads the pages, pages that end before
 * the announced total, 429/503 with Retry-After, a ServiceProviderConfig without filter support, and a 400 to
 * `meta.lastModified` filters. Basic auth only; every request is recorded.
 *
 *   const s = await MisbehavingScim.start();  s.users = rows;  s.behaviour = { pageCap: 7 };  await s.close();
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Behaviour {
  /** itemsPerPage sent with every page (default: the requested count, as SCIMMY does). */
  itemsPerPage?: number;
  /** At most this many Resources per page, whatever the count asked for. */
  pageCap?: number;
  /** totalResults grows by this much on every page after the first (records arriving while a run reads). */
  totalDrift?: number;
  /** Pages from this startIndex on are empty, while totalResults still announces everything. */
  emptyFrom?: number;
  /** Answer the first N list requests with this status and Retry-After (seconds). */
  throttle?: { status: 429 | 503; times: number; retryAfter: string };
  /** Serve the first page whatever startIndex says. */
  ignoreStartIndex?: boolean;
  /** ServiceProviderConfig filter.supported (default true). */
  filterSupported?: boolean;
  /** Answer 400 invalidFilter to filters on meta.lastModified. */
  refuseLastModified?: boolean;
}

export interface SeenRequest {
  path: string;
  query: URLSearchParams;
  at: number;
}

const PASSWORD = 'scim-pa55';

export class MisbehavingScim {
  users: Array<Record<string, unknown>> = [];
  groups: Array<Record<string, unknown>> = [];
  behaviour: Behaviour = {};
  readonly requests: SeenRequest[] = [];
  readonly username = 'svc-scim';
  readonly password = PASSWORD;
  url = '';
  port = 0;
  private throttled = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<MisbehavingScim> {
    let peer: MisbehavingScim | undefined;
    const server = createServer((req, res) => peer?.handle(req.url ?? '/', req.headers.authorization, res));
    peer = new MisbehavingScim(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peer.port = (server.address() as AddressInfo).port;
    peer.url = `http://127.0.0.1:${peer.port}/scim/v2`;
    return peer;
  }

  reset(): void {
    this.users = [];
    this.groups = [];
    this.behaviour = {};
    this.requests.length = 0;
    this.throttled = 0;
  }

  private handle(target: string, authorization: string | undefined, res: import('node:http').ServerResponse) {
    const url = new URL(target, 'http://x');
    const path = url.pathname.replace(/^\/scim\/v2/, '');
    this.requests.push({ path, query: url.searchParams, at: Date.now() });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Type': 'application/scim+json', ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, scimType: string | undefined, detail: string, headers?: Record<string, string>) =>
      send(
        status,
        { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), scimType, detail },
        headers,
      );
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    if (authorization !== expected) return error(401, undefined, 'Authorization failed');
    if (path === '/ServiceProviderConfig') {
      return send(200, {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        patch: { supported: false },
        bulk: { supported: false },
        filter: { supported: this.behaviour.filterSupported !== false, maxResults: 200 },
        etag: { supported: true },
        sort: { supported: false },
      });
    }
    const rows = path === '/Users' ? this.users : path === '/Groups' ? this.groups : undefined;
    if (!rows) return error(404, undefined, `no such endpoint ${path}`);
    const b = this.behaviour;
    if (b.throttle && this.throttled < b.throttle.times) {
      this.throttled++;
      return error(b.throttle.status, undefined, 'slow down', { 'Retry-After': b.throttle.retryAfter });
    }
    const filter = url.searchParams.get('filter') ?? '';
    if (b.refuseLastModified && filter.includes('meta.lastModified')) {
      return error(400, 'invalidFilter', 'Filtering on meta.lastModified is not supported');
    }
    const since = /meta\.lastModified gt "([^"]+)"/.exec(filter)?.[1];
    const matching = since
      ? rows.filter((r) => String((r.meta as { lastModified?: string })?.lastModified) > since)
      : rows;
    const start = b.ignoreStartIndex ? 1 : Number(url.searchParams.get('startIndex') ?? '1');
    const count = Number(url.searchParams.get('count') ?? '100');
    const page = this.requests.filter((r) => r.path === path).length;
    const size = Math.min(count, b.pageCap ?? count);
    const resources =
      b.emptyFrom !== undefined && start >= b.emptyFrom ? [] : matching.slice(start - 1, start - 1 + size);
    send(200, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: matching.length + (page > 1 ? (b.totalDrift ?? 0) * (page - 1) : 0),
      startIndex: start,
      itemsPerPage: b.itemsPerPage ?? count,
      Resources: resources,
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
