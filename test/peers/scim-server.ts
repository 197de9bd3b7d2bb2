/**
 * A real SCIM 2.0 service provider for tests: SCIMMY with scimmy-routers on express 4, on 127.0.0.1 with a
 * random port, Basic or Bearer auth, in-memory users (with the enterprise extension) and groups with members,
 * `meta.lastModified` kept by every write (ingress, PATCH), userName unique (409 uniqueness). SCIMMY filters, pages (startIndex/count) and
 * answers ServiceProviderConfig, 400 invalidFilter and 401 itself. Its caveats (docs test-peers.md): itemsPerPage
 * echoes the requested count; filters on extension attributes match nothing; no ETags.
 *
 *   const scim = await ScimServer.start({ auth: { type: 'basic', username: 'svc', password: 'pw' } });
 *   scim.user({ id: 'u1', userName: 'ada' }); scim.group({ id: 'g1', displayName: 'app-x', members: ['u1'] });
 *   scim.intercept = (req) => (req.query.startIndex === '41' ? { status: 400, detail: 'the source broke' } : undefined);
 *   ... scim.requests ...   await scim.close();
 *
 * SCIMMY's resource handlers are process-wide: one server per test file (vitest runs files in their own workers).
 */
import type { RequestListener, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
type Resource = Record<string, unknown> & { id: string };

export type ScimAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export interface ScimRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
}

/** An answer instead of SCIMMY's: a SCIM error (status, scimType, detail) or a raw JSON body. */
export interface Intercepted {
  status: number;
  scimType?: string;
  detail?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

/** What the peer uses of express 4 (the package ships no types here). */
interface ExpressRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  header(name: string): string | undefined;
}
interface ExpressResponse {
  status(code: number): ExpressResponse;
  set(headers: Record<string, string>): ExpressResponse;
  send(body: string): void;
}

let current: ScimServer | undefined;
let declared = false;

const stamp = (r: Record<string, unknown>, at: Date): Record<string, unknown> => {
  const meta = (r.meta as Record<string, unknown> | undefined) ?? {};
  return { ...r, meta: { ...meta, created: meta.created ?? at.toISOString(), lastModified: at.toISOString() } };
};

function declare(): void {
  if (declared) return;
  declared = true;
  const store = (kind: 'users' | 'groups') => {
    if (!current) throw new SCIMMY.Types.Error(503, '', 'no SCIM test server running');
    return current[kind];
  };
  const handlers = (kind: 'users' | 'groups') => ({
    egress: async (resource: { id?: string; filter?: { match(v: unknown[]): unknown[] } }) => {
      const map = store(kind);
      if (resource.id) {
        const found = map.get(resource.id);
        if (!found) throw new SCIMMY.Types.Error(404, '', `Resource ${resource.id} not found`);
        return found;
      }
      const all = [...map.values()];
      return resource.filter ? resource.filter.match(all) : all;
    },
    ingress: async (resource: { id?: string }, instance: Record<string, unknown>) => {
      const map = store(kind);
      const id = resource.id ?? String(instance.id ?? `${kind[0]}${map.size + 1}-${Date.now()}`);
      const before = map.get(id);
      const userName = kind === 'users' ? String(instance.userName ?? '').toLowerCase() : undefined;
      const taken =
        userName && [...map.values()].some((u) => u.id !== id && String(u.userName).toLowerCase() === userName);
      if (taken)
        throw new SCIMMY.Types.Error(409, 'uniqueness', `userName "${String(instance.userName)}" already exists`);
      const json = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
      const saved = stamp({ ...json, id }, current?.clock() ?? new Date()) as Resource;
      if (before?.meta)
        (saved.meta as Record<string, unknown>).created = (before.meta as Record<string, unknown>).created;
      map.set(id, saved);
      return saved;
    },
    degress: async (resource: { id?: string }) => {
      if (resource.id && !store(kind).delete(resource.id)) {
        throw new SCIMMY.Types.Error(404, '', `Resource ${resource.id} not found`);
      }
    },
  });
  SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false));
  SCIMMY.Resources.User.egress(handlers('users').egress as never);
  SCIMMY.Resources.User.ingress(handlers('users').ingress as never);
  SCIMMY.Resources.User.degress(handlers('users').degress as never);
  SCIMMY.Resources.declare(SCIMMY.Resources.Group);
  SCIMMY.Resources.Group.egress(handlers('groups').egress as never);
  SCIMMY.Resources.Group.ingress(handlers('groups').ingress as never);
  SCIMMY.Resources.Group.degress(handlers('groups').degress as never);
  SCIMMY.Config.set({ patch: true, filter: { supported: true, maxResults: 1000 }, sort: true, bulk: false });
}

export class ScimServer {
  readonly users = new Map<string, Resource>();
  readonly groups = new Map<string, Resource>();
  readonly requests: ScimRequest[] = [];
  /** Answers a request instead of SCIMMY when it returns something (fault injection). */
  intercept?: (req: ScimRequest) => Intercepted | undefined;
  /** Time of the next write, for meta.lastModified. */
  clock: () => Date = () => new Date();
  url = '';
  port = 0;

  private constructor(
    public auth: ScimAuth,
    private server?: Server,
  ) {}

  static async start(options: { auth: ScimAuth; tls?: { cert: string; key: string } }): Promise<ScimServer> {
    declare();
    const peer = new ScimServer(options.auth);
    current = peer;
    const app = express();
    app.use((req: ExpressRequest, res: ExpressResponse, next: () => void) => {
      const r: ScimRequest = {
        method: req.method,
        path: req.path,
        query: Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v)])),
        authorization: req.header('Authorization'),
      };
      peer.requests.push(r);
      const answer = peer.intercept?.(r);
      if (!answer) return next();
      res.status(answer.status).set({ 'Content-Type': 'application/scim+json', ...answer.headers });
      res.send(
        JSON.stringify(
          answer.json ?? {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
            status: String(answer.status),
            scimType: answer.scimType,
            detail: answer.detail,
          },
        ),
      );
    });
    app.use(
      '/scim/v2',
      new SCIMMYRouters({
        type: options.auth.type,
        handler: (req: ExpressRequest) => {
          if (req.header('Authorization') !== peer.expectedAuthorization()) throw new Error('Authorization failed');
          return 'svc';
        },
      }),
    );
    const server = options.tls
      ? createHttpsServer(options.tls, app as unknown as RequestListener).listen(0, '127.0.0.1')
      : app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    peer.server = server;
    peer.port = (server.address() as AddressInfo).port;
    peer.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${peer.port}/scim/v2`;
    return peer;
  }

  expectedAuthorization(): string {
    const a = this.auth;
    return a.type === 'bearer'
      ? `Bearer ${a.token}`
      : `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
  }

  /** Adds or replaces a user; `meta` is stamped with the clock unless given. */
  user(u: Record<string, unknown> & { id: string; userName: string }): Resource {
    const saved = (u.meta ? u : stamp(u, this.clock())) as Resource;
    this.users.set(u.id, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...saved });
    return saved;
  }

  /** Adds or replaces a group; members given as ids are users, or groups when such a group exists. */
  group(g: Record<string, unknown> & { id: string; displayName: string; members?: Array<string | object> }): Resource {
    const members = g.members?.map((m) =>
      typeof m === 'string' ? { value: m, type: this.groups.has(m) ? 'Group' : 'User' } : m,
    );
    const base = { ...g, ...(members ? { members } : {}) };
    const saved = (g.meta ? base : stamp(base, this.clock())) as Resource;
    this.groups.set(g.id, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], ...saved });
    return saved;
  }

  reset(): void {
    this.users.clear();
    this.groups.clear();
    this.requests.length = 0;
    this.intercept = undefined;
  }

  async close(): Promise<void> {
    if (current === this) current = undefined;
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
