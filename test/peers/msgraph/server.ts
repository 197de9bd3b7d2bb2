/**
 * A Microsoft Graph v1.0 and Entra token endpoint simulator over HTTPS (throwaway CA from tls.ts), following
 * /work/shared/reference/msgraph-api.md: the token endpoint (secret and PS256 certificate assertions, AADSTS
 * errors), bearer tokens that expire (401 InvalidAuthenticationToken), /users and /groups with $select,
 * $filter (odata.ts), $top 1..999, $count, $search, advanced queries refused without `ConsistencyLevel:
 * eventual` and `$count=true`, absolute @odata.nextLink paging, members and transitiveMembers, delta rounds
 * (directory.ts) with expired tokens, generic collections, $batch (at most 20), and injected faults (429/503
 * with Retry-After). Graph and login share one origin: https://localhost:PORT.
 */
import {
  createHash,
  createPublicKey,
  constants as cryptoConstants,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestPki } from '../tls.js';
import { type Answer, graphError } from './answers.js';
import { Directory, GROUP_PROPERTIES, type Obj, USER_DEFAULTS, USER_PROPERTIES } from './directory.js';
import { groupWrites } from './group-writes.js';
import { objectWrites } from './object-writes.js';
import { FilterSyntaxError, parseFilter } from './odata.js';
import { userWrites } from './user-writes.js';
import type { WriteHandler } from './writes.js';

export interface GraphApp {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  /** PEM certificate whose key signs client assertions. */
  certificate?: string;
}

export interface Fault {
  /** Matched against the request path (after the origin, query included). */
  path?: RegExp;
  status: number;
  retryAfter?: number;
  times: number;
  /** Only inside $batch (an item's own 429), or only outside it. */
  inBatch?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  batched?: boolean;
  status?: number;
  /** The request body as text (a photo's bytes as latin1-ish text: compare lengths, not content). */
  body?: string;
}

const aadError = (status: number, error: string, code: number, description: string): Answer => ({
  status,
  body: {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  },
});

const ADVANCED_MESSAGE = (op: string) =>
  `Operator '${op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`;

interface Round {
  kind: 'users' | 'groups';
  items: Obj[];
  offset: number;
  select: string[];
  startVersion: number;
  emptyPages: number;
}

export class GraphSimulator {
  readonly dir = new Directory();
  readonly requests: LoggedRequest[] = [];
  /** false: requests are not kept in `requests` (benchmarks: the log would grow with the load). */
  keepRequests = true;
  readonly logins: Array<{ clientId: string; method: 'secret' | 'certificate' }> = [];
  readonly faults: Fault[] = [];
  /** Token lifetime in seconds (3599 like Entra). */
  expiresIn = 3599;
  /** Objects per delta page, and members per members@delta chunk (a large group comes back on later pages). */
  deltaPageSize = 100;
  memberChunk = 50;
  /** Largest page served whatever $top asks (Graph may send fewer than $top): small tenants then page too. */
  pageCap = 999;
  /** Empty pages (with a nextLink) a delta round sends before its last page. */
  deltaEmptyPages = 0;
  /** How an expired delta token is answered. */
  deltaExpiry: 'syncStateNotFound' | 'gone' = 'syncStateNotFound';
  /** Writes, by area (users, groups, other objects): each answers the requests it knows, else undefined. */
  readonly writeHandlers: WriteHandler[] = [userWrites, groupWrites, objectWrites];
  private readonly tokens = new Map<string, { expiresAt: number; clientId: string }>();
  private readonly rounds = new Map<string, Round>();
  private readonly pages = new Map<string, { items: Obj[]; offset: number; top: number; count?: number }>();

  private constructor(
    private readonly server: Server,
    readonly app: GraphApp,
  ) {}

  static async start(pki: TestPki, app: GraphApp): Promise<GraphSimulator> {
    let sim: GraphSimulator | undefined;
    const server = createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const answer = (sim as GraphSimulator).handle(
          req.method ?? 'GET',
          req.url ?? '/',
          req.headers,
          raw.toString('utf8'),
          raw,
        );
        const isText = typeof answer.body === 'string';
        res.writeHead(answer.status, {
          'Content-Type': isText ? 'text/plain' : 'application/json;odata.metadata=minimal',
          ...answer.headers,
        });
        res.end(answer.body === undefined ? '' : isText ? answer.body : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sim = new GraphSimulator(server, app);
    return sim;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Login and Graph host (the certificate is for localhost and 127.0.0.1). */
  get url(): string {
    return `https://localhost:${this.port}`;
  }

  get tokenUrl(): string {
    return `${this.url}/${this.app.tenantId}/oauth2/v2.0/token`;
  }

  /** Every token issued so far expires now: the next Graph call with one gets 401. */
  expireTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = 0;
  }

  /** Every delta token issued so far is expired (the 7-day limit). */
  expireDeltaTokens(): void {
    this.dir.minDeltaVersion = this.dir.version + 1;
  }

  fault(f: Fault): void {
    this.faults.push(f);
  }

  graphCalls(pathPrefix = '/v1.0/'): LoggedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix));
  }

  reset(): void {
    this.requests.length = 0;
    this.logins.length = 0;
    this.faults.length = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private takeFault(path: string, inBatch: boolean): Fault | undefined {
    const i = this.faults.findIndex(
      (f) => (!f.path || f.path.test(path)) && (f.inBatch === undefined || f.inBatch === inBatch),
    );
    if (i < 0) return undefined;
    const f = this.faults[i];
    if (--f.times <= 0) this.faults.splice(i, 1);
    return f;
  }

  handle(
    method: string,
    rawUrl: string,
    headers: Record<string, string | string[] | undefined>,
    body: string,
    raw: Buffer = Buffer.from(body),
  ): Answer {
    const url = new URL(rawUrl, this.url);
    const logged: LoggedRequest = { method, path: url.pathname, query: url.searchParams, headers, body };
    if (this.keepRequests) this.requests.push(logged);
    const answer = this.route(method, url, headers, body, false, raw);
    logged.status = answer.status;
    return answer;
  }

  private route(
    method: string,
    url: URL,
    headers: Record<string, string | string[] | undefined>,
    body: string,
    inBatch: boolean,
    raw: Buffer = Buffer.from(body),
  ): Answer {
    const fault = this.takeFault(url.pathname + url.search, inBatch);
    if (fault) {
      const h = fault.retryAfter === undefined ? undefined : { 'Retry-After': String(fault.retryAfter) };
      if (fault.status === 429) return graphError(429, 'TooManyRequests', 'Too many requests.', h);
      if (fault.status === 403) {
        return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', h);
      }
      return graphError(fault.status, 'UnknownError', 'Service unavailable.', h);
    }
    const tenant = this.app.tenantId;
    const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (discovery && discovery[1] !== tenant) {
      return aadError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${discovery[1]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (discovery) return { status: 200, body: this.openid() };
    if (url.pathname.endsWith('/oauth2/v2.0/token') && method === 'POST') return this.token(url, body);
    if (!url.pathname.startsWith('/v1.0/')) return graphError(404, 'Request_ResourceNotFound', 'Not found.');
    if (!inBatch) {
      const denied = this.authorize(headers.authorization);
      if (denied) return denied;
    }
    const path = url.pathname.slice('/v1.0'.length);
    if (path === '/$batch' && method === 'POST') return this.batch(body, headers);
    if (method !== 'GET') {
      for (const write of this.writeHandlers) {
        const answer = write({ method, path, url, headers, body, raw, inBatch }, this);
        if (answer) return answer;
      }
      return graphError(405, 'Request_BadRequest', `Method ${method} is not supported here.`);
    }
    return this.get(path, url, headers);
  }

  private openid(): Obj {
    const base = `${this.url}/${this.app.tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    };
  }

  private token(url: URL, body: string): Answer {
    const form = new URLSearchParams(body);
    const tenant = url.pathname.split('/')[1];
    if (tenant !== this.app.tenantId) {
      return aadError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    const clientId = form.get('client_id') ?? '';
    if (clientId !== this.app.clientId) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    }
    if (!(form.get('scope') ?? '').split(' ').every((s) => s.endsWith('/.default'))) {
      return aadError(400, 'invalid_scope', 1002012, 'The provided value for scope is not valid.');
    }
    let method: 'secret' | 'certificate';
    if (form.has('client_secret')) {
      if (form.get('client_secret') !== this.app.clientSecret) {
        return aadError(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
      }
      method = 'secret';
    } else if (form.has('client_assertion')) {
      const refused = this.checkAssertion(form.get('client_assertion') ?? '', url);
      if (refused) return refused;
      method = 'certificate';
    } else {
      return aadError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain 'client_assertion' or 'client_secret'.",
      );
    }
    this.logins.push({ clientId, method });
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { expiresAt: Date.now() + this.expiresIn * 1000, clientId });
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: this.expiresIn, ext_expires_in: this.expiresIn, access_token: token },
    };
  }

  /** PS256 signature by the registered certificate, x5t#S256 its SHA-256 thumbprint, aud the token URL. */
  private checkAssertion(jwt: string, url: URL): Answer | undefined {
    const bad = (why: string) =>
      aadError(401, 'invalid_client', 700027, `Client assertion failed signature validation. ${why}`);
    const [h, p, s] = jwt.split('.');
    if (!this.app.certificate || !h || !p || !s) return bad('No certificate registered or malformed assertion.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Obj;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Obj;
    const der = Buffer.from(this.app.certificate.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const thumb = createHash('sha256').update(der).digest('base64url');
    if (header.alg !== 'PS256' || header['x5t#S256'] !== thumb) return bad('Unknown key.');
    const ok = verify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      { key: createPublicKey(this.app.certificate), padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      Buffer.from(s, 'base64url'),
    );
    if (!ok) return bad('Bad signature.');
    if (claims.aud !== `${this.url}${url.pathname}`) return bad(`Wrong audience ${String(claims.aud)}.`);
    if (claims.iss !== this.app.clientId || claims.sub !== this.app.clientId) return bad('Wrong issuer.');
    return undefined;
  }

  private authorize(header: string | string[] | undefined): Answer | undefined {
    const value = Array.isArray(header) ? header[0] : header;
    if (!value?.startsWith('Bearer ')) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const t = this.tokens.get(value.slice(7));
    if (!t) return graphError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed.');
    if (t.expiresAt <= Date.now()) {
      return graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    }
    return undefined;
  }

  private get(path: string, url: URL, headers: Record<string, string | string[] | undefined>): Answer {
    const q = url.searchParams;
    const skip = q.get('$skiptoken');
    if (skip && this.pages.has(skip)) return this.page(skip, path);
    if (path === '/users/delta' || path === '/groups/delta')
      return this.delta(path.split('/')[1] as 'users' | 'groups', q);
    const m = /^\/(users|groups)(?:\/([^/]+))?(?:\/(members|transitiveMembers|memberOf))?$/.exec(path);
    if (m) {
      const kind = m[1] as 'users' | 'groups';
      if (!m[2]) return this.list(kind, q, headers);
      const id = decodeURIComponent(m[2]);
      const store = kind === 'users' ? this.dir.users : this.dir.groups;
      const obj =
        store.get(id) ?? (kind === 'users' ? [...store.values()].find((u) => u.userPrincipalName === id) : undefined);
      if (!obj) {
        return graphError(
          404,
          'Request_ResourceNotFound',
          `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
        );
      }
      if (!m[3]) {
        const sel = this.select(kind, q);
        if ('status' in sel) return sel;
        return {
          status: 200,
          body: { '@odata.context': `${this.url}/v1.0/$metadata#${kind}/$entity`, ...pick(obj, sel.props) },
        };
      }
      const ids =
        m[3] === 'members'
          ? [...(this.dir.members.get(id) ?? [])]
          : m[3] === 'transitiveMembers'
            ? this.dir.transitiveMembers(id)
            : [...this.dir.members].filter(([, s]) => s.has(id)).map(([g]) => g);
      const selected = (q.get('$select') ?? 'id').split(',');
      const items = ids.map((mid) => ({
        '@odata.type': this.dir.typeOf(mid),
        ...pick(this.dir.object(mid) ?? { id: mid }, selected),
      }));
      return this.paged(items, q, path);
    }
    const rest = path.slice(1).split('/');
    const collection = this.dir.collections.get(path);
    if (collection) {
      const items = this.filtered(collection, q);
      return 'status' in items ? items : this.paged(items, q, path);
    }
    const resource = this.dir.resources.get(path);
    if (resource) return { status: 200, body: resource };
    // Under a known collection, a missing object (or a property of it) is a 404; elsewhere the segment is unknown.
    if ([...this.dir.collections.keys()].some((c) => path.startsWith(`${c}/`))) {
      return graphError(404, 'ResourceNotFound', `Resource not found for the segment '${rest[rest.length - 1]}'.`);
    }
    return graphError(400, 'BadRequest', `Resource not found for the segment '${rest[rest.length - 1]}'.`);
  }

  /** A generic collection's objects that match `$filter` (all without one); advanced operators are not checked here. */
  private filtered(items: Obj[], q: URLSearchParams): Obj[] | Answer {
    const filter = q.get('$filter');
    try {
      return filter ? items.filter(parseFilter(filter).test) : items;
    } catch (e) {
      if (e instanceof FilterSyntaxError) return graphError(400, 'BadRequest', `Invalid filter clause: ${e.message}`);
      throw e;
    }
  }

  private select(kind: 'users' | 'groups', q: URLSearchParams): { props: string[] } | Answer {
    const known = kind === 'users' ? USER_PROPERTIES : GROUP_PROPERTIES;
    const raw = q.get('$select');
    if (!raw) return { props: kind === 'users' ? USER_DEFAULTS : [...GROUP_PROPERTIES] };
    const props = raw.split(',').map((p) => p.trim());
    const unknown = props.find((p) => !known.has(p));
    if (unknown) {
      return graphError(
        400,
        'Request_BadRequest',
        `Could not find a property named '${unknown}' on type 'microsoft.graph.${kind === 'users' ? 'user' : 'group'}'.`,
      );
    }
    return { props: props.includes('id') ? props : ['id', ...props] };
  }

  private list(
    kind: 'users' | 'groups',
    q: URLSearchParams,
    headers: Record<string, string | string[] | undefined>,
  ): Answer {
    const eventual = String(headers.consistencylevel ?? '').toLowerCase() === 'eventual';
    const count = q.get('$count') === 'true';
    const sel = this.select(kind, q);
    if ('status' in sel) return sel;
    let items = [...(kind === 'users' ? this.dir.users : this.dir.groups).values()];
    const filter = q.get('$filter');
    if (filter) {
      try {
        const parsed = parseFilter(filter);
        if (parsed.advanced && !(eventual && count)) {
          return graphError(400, 'Request_UnsupportedQuery', ADVANCED_MESSAGE(parsed.advanced));
        }
        items = items.filter(parsed.test);
      } catch (e) {
        if (e instanceof FilterSyntaxError) return graphError(400, 'BadRequest', `Invalid filter clause: ${e.message}`);
        throw e;
      }
    }
    const search = q.get('$search');
    if (search) {
      if (!eventual) {
        return graphError(
          400,
          'Request_UnsupportedQuery',
          "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        );
      }
      const m = /^"([A-Za-z]+):(.*)"$/.exec(search.trim());
      if (!m) return graphError(400, 'Request_UnsupportedQuery', `Invalid $search clause '${search}'.`);
      const [, prop, word] = m;
      items = items.filter(
        (o) => typeof o[prop] === 'string' && (o[prop] as string).toLowerCase().includes(word.toLowerCase()),
      );
    }
    return this.paged(
      items.map((o) => pick(o, sel.props)),
      q,
      `/${kind}`,
      count && eventual ? items.length : undefined,
    );
  }

  private paged(items: Obj[], q: URLSearchParams, path: string, count?: number): Answer {
    const top = q.get('$top') === null ? 100 : Number(q.get('$top'));
    if (!Number.isInteger(top) || top < 1 || top > 999) {
      return graphError(
        400,
        'Request_UnsupportedQuery',
        `Invalid page size specified: '${q.get('$top')}'. Must be between 1 and 999 inclusive.`,
      );
    }
    const token = randomBytes(12).toString('base64url');
    this.pages.set(token, { items, offset: 0, top: Math.min(top, this.pageCap), count });
    return this.page(token, path);
  }

  private page(token: string, path: string): Answer {
    const state = this.pages.get(token) as { items: Obj[]; offset: number; top: number; count?: number };
    this.pages.delete(token);
    const value = state.items.slice(state.offset, state.offset + state.top);
    const body: Obj = { '@odata.context': `${this.url}/v1.0/$metadata#${path.slice(1)}` };
    if (state.count !== undefined && state.offset === 0) body['@odata.count'] = state.count;
    const next = state.offset + state.top;
    if (next < state.items.length) {
      const t = randomBytes(12).toString('base64url');
      this.pages.set(t, { ...state, offset: next });
      body['@odata.nextLink'] = `${this.url}/v1.0${path}?$top=${state.top}&$skiptoken=${t}`;
    }
    body.value = value;
    return { status: 200, body };
  }

  private delta(kind: 'users' | 'groups', q: URLSearchParams): Answer {
    const skip = q.get('$skiptoken');
    if (skip) {
      const round = this.rounds.get(skip);
      if (!round) return graphError(400, 'Request_BadRequest', 'The skip token is invalid.');
      this.rounds.delete(skip);
      return this.deltaPage(round);
    }
    if (q.has('$top') || q.has('$orderby')) {
      return graphError(400, 'Request_UnsupportedQuery', 'The delta query does not support $top or $orderby.');
    }
    const filter = q.get('$filter');
    if (filter && !/^id eq '[^']+'( or id eq '[^']+')*$/.test(filter)) {
      return graphError(
        400,
        'Request_UnsupportedQuery',
        'Unsupported query: delta $filter supports only id eq with or.',
      );
    }
    const token = q.get('$deltatoken');
    let since: number | undefined;
    let select = (q.get('$select') ?? '').split(',').filter(Boolean);
    if (token === 'latest') {
      return { status: 200, body: { value: [], '@odata.deltaLink': this.deltaLink(kind, this.dir.version, select) } };
    }
    if (token !== null) {
      const state = JSON.parse(Buffer.from(token, 'base64url').toString()) as { v: number; s: string[] };
      if (state.v < this.dir.minDeltaVersion) {
        if (this.deltaExpiry === 'gone') {
          return graphError(410, 'syncStateNotFound', 'The sync state generation is not found.', {
            Location: `${this.url}/v1.0/${kind}/delta?$deltatoken=`,
          });
        }
        return graphError(
          400,
          'syncStateNotFound',
          'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
        );
      }
      since = state.v;
      select = state.s;
    }
    if (select.length === 0) select = kind === 'users' ? USER_DEFAULTS : [...GROUP_PROPERTIES];
    let items = this.dir.deltaItems(kind, since, select, this.memberChunk);
    if (filter) {
      const ids = new Set([...filter.matchAll(/'([^']+)'/g)].map((m) => m[1]));
      items = items.filter((o) => ids.has(String(o.id)));
    }
    return this.deltaPage({
      kind,
      items,
      offset: 0,
      select,
      startVersion: this.dir.version,
      emptyPages: this.deltaEmptyPages,
    });
  }

  private deltaLink(kind: string, v: number, s: string[]): string {
    const token = Buffer.from(JSON.stringify({ v, s })).toString('base64url');
    return `${this.url}/v1.0/${kind}/delta?$deltatoken=${token}`;
  }

  private deltaPage(round: Round): Answer {
    const body: Obj = { '@odata.context': `${this.url}/v1.0/$metadata#${round.kind}(${round.select.join(',')})` };
    const nextLink = (r: Round) => {
      const t = randomBytes(12).toString('base64url');
      this.rounds.set(t, r);
      return `${this.url}/v1.0/${round.kind}/delta?$skiptoken=${t}`;
    };
    if (round.offset < round.items.length) {
      body.value = round.items.slice(round.offset, round.offset + this.deltaPageSize);
      const next = { ...round, offset: round.offset + this.deltaPageSize };
      if (next.offset < round.items.length || round.emptyPages > 0) body['@odata.nextLink'] = nextLink(next);
      else body['@odata.deltaLink'] = this.deltaLink(round.kind, round.startVersion, round.select);
    } else if (round.emptyPages > 0) {
      body.value = [];
      const next = { ...round, emptyPages: round.emptyPages - 1 };
      if (next.emptyPages > 0) body['@odata.nextLink'] = nextLink(next);
      else body['@odata.deltaLink'] = this.deltaLink(round.kind, round.startVersion, round.select);
    } else {
      body.value = [];
      body['@odata.deltaLink'] = this.deltaLink(round.kind, round.startVersion, round.select);
    }
    return { status: 200, body };
  }

  private batch(body: string, headers: Record<string, string | string[] | undefined>): Answer {
    const parsed = JSON.parse(body) as { requests?: Array<{ id: string; method: string; url: string; headers?: Obj }> };
    const requests = parsed.requests ?? [];
    if (requests.length > 20) {
      return graphError(400, 'Request_BadRequest', 'The number of requests in the batch exceeds the limit of 20.');
    }
    if (new Set(requests.map((r) => r.id)).size !== requests.length) {
      return graphError(400, 'Request_BadRequest', 'Batch request ids must be unique.');
    }
    const responses = requests.map((r) => {
      const url = new URL(`/v1.0${r.url.startsWith('/') ? '' : '/'}${r.url}`, this.url);
      this.requests.push({ method: r.method, path: url.pathname, query: url.searchParams, headers: {}, batched: true });
      const itemHeaders = {
        ...headers,
        ...Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
      };
      const a = this.route(r.method, url, itemHeaders, '', true);
      return { id: r.id, status: a.status, headers: a.headers ?? {}, body: a.body };
    });
    return { status: 200, body: { responses: responses.reverse() } };
  }
}

function pick(o: Obj, props: readonly string[]): Obj {
  const out: Obj = {};
  // Graph answers null for a selected property the object has no value for.
  for (const p of props) out[p] = o[p] ?? null;
  if (!('id' in out) && 'id' in o) out.id = o.id;
  return out;
}
