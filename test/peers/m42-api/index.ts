/**
 * A simulator of the home solution's REST API v1 (shared/reference/m42-rest-api.md), because no Matrix42
 * Core/Pro/IGA instance can run here. It serves `/rest-api/itsm/v1` on 127.0.0.1 over http, or https with a
 * test PKI, and is driven only over sockets by the real client. test/peers/m42-api.test.ts pins its behaviour;
 * if one of those tests fails, the simulator drifted from the reference. Choices where the reference is silent
 * are documented in the header of the module that makes them (eql.ts, values.ts, store.ts, cards-api.ts,
 * server.ts, jwt.ts).
 *
 *   const api = await startM42Api({ templates: [{ code: 'person', folders: [{ code: 'people' }],
 *     attributes: { efecte_id: { type: 'string', unique: true }, name: { type: 'string' } } }] });
 *   api.url;                                   // http://127.0.0.1:PORT/rest-api/itsm/v1
 *   api.insert('person', 'people', { efecte_id: 'P-1' });
 *   api.fault({ method: 'PUT', path: /\/data$/, status: 429, retryAfter: 2 });
 *   api.cards('person');                       // card JSON as the API reads it
 *   await api.stop();
 *
 * State lives in this process: a client killed mid-request leaves exactly what the API had done.
 *
 * Not simulated (nothing public describes them well enough): EQL reference traversal (`referenceData...`),
 * `createEmptyReferences` (accepted, ignored),
 * hidden cards, restoring from the trash, server-side rate limits (inject 429 with fault()), the ".msg"
 * rule of mail uploads, and the older XML WebAPI.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DEFAULT_MAX_FILE_BYTES } from './files.js';
import { TokenIssuer } from './jwt.js';
import { type CardJson, cardJson } from './render.js';
import {
  BASE_PATH,
  createHandler,
  type Fault,
  type RecordedRequest,
  type RouteKind,
  type ServerState,
  type User,
} from './server.js';
import { Store, type TemplateConfig } from './store.js';
import { attributeError, plainToWrite } from './values.js';

export type { AttributeJson, CardJson } from './render.js';
export type { Fault, RecordedRequest, RouteKind, User } from './server.js';
export type { AttributeConfig, TemplateConfig } from './store.js';
export type { AttributeError, AttributeType } from './values.js';

/** The WebAPI user when none are given. */
export const DEFAULT_USER: User = { login: 'webapi', password: 'webapi-secret' };

export interface M42ApiOptions {
  tls?: { cert: string; key: string };
  users?: User[];
  /** Lifetime of a login token, put in its `exp` (default 3600). */
  tokenTtlSeconds?: number;
  templates: TemplateConfig[];
  /** The first dataCardId handed out (default 1). */
  firstId?: number;
  /** Largest file upload; larger ones get 413 "Uploaded file is too big" (default 10 MiB). */
  maxFileBytes?: number;
  /** Port to listen on (default 0: a free one). */
  port?: number;
  /** Handles extra paths outside the base before anything else (main.ts's control endpoints). */
  control?: ServerState['control'];
}

export interface RequestMatch {
  method?: string;
  path?: RegExp;
  kind?: RouteKind;
}

export interface M42Api {
  /** `http(s)://127.0.0.1:PORT/rest-api/itsm/v1` */
  readonly url: string;
  readonly port: number;
  /** Cards of a template as the API reads them (full card JSON), ascending id; trashed ones when asked. */
  cards(template: string, options?: { includeDeleted?: boolean }): Array<CardJson>;
  /** One card by id (also in the trash), or undefined. */
  card(id: number): CardJson | undefined;
  /**
   * Seeds a card through the API's own write path (checks included; throws with the per-attribute messages).
   * `data` in the write shape `{code: {values: [...]}}` or plain `{code: value | value[]}`.
   */
  insert(template: string, folder: string, data: Record<string, unknown>): CardJson;
  /** Moves a card to the trash as DELETE does; false when it was there already. */
  trash(id: number): boolean;
  /** Every request since start or the last reset()/clearRequests(). */
  readonly requests: RecordedRequest[];
  /** Requests per kind of call since start or the last reset(). */
  counts(): Record<RouteKind, number>;
  fault(fault: Fault): void;
  /**
   * Resolves with the first request matching `match` that is carried out from now on (its change made, its
   * answer not necessarily sent): the event a kill-mid-request test waits for instead of sleeping.
   */
  waitForRequest(match?: RequestMatch, timeoutMs?: number): Promise<RecordedRequest>;
  clearFaults(): void;
  clearRequests(): void;
  /** Every token issued so far is refused from now on (401). */
  expireTokens(): void;
  /** Moves the simulator's clock (token expiry, timestamps, relative dates) forward. */
  advanceClock(seconds: number): void;
  /** The simulator's clock (ms). */
  now(): number;
  /** Empties cards (ids start again), requests, counts and faults, and puts the clock back; templates, users and unexpired tokens stay. */
  reset(): void;
  stop(): Promise<void>;
}

const KINDS: RouteKind[] = [
  'login',
  'echo',
  'templates',
  'list',
  'stream',
  'get',
  'create',
  'bulkPut',
  'patch',
  'delete',
  'attr',
  'file',
  'other',
];

const zeroCounts = (): Record<RouteKind, number> =>
  Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<RouteKind, number>;

function toWriteShape(store: Store, template: string, data: Record<string, unknown>): Record<string, unknown> {
  const t = store.templates.get(template);
  const out: Record<string, unknown> = {};
  for (const [code, value] of Object.entries(data)) {
    const isWriteShape =
      typeof value === 'object' && value !== null && Array.isArray((value as { values?: unknown }).values);
    out[code] = isWriteShape ? value : { values: plainToWrite(value, t?.attributes.get(code)) };
  }
  return out;
}

export async function startM42Api(options: M42ApiOptions): Promise<M42Api> {
  let offset = 0;
  const now = (): number => Date.now() + offset;
  const store = new Store(options.templates, options.firstId ?? 1);
  const state: ServerState = {
    store,
    tokens: new TokenIssuer(options.tokenTtlSeconds ?? 3600, now),
    users: options.users ?? [DEFAULT_USER],
    now,
    requests: [],
    counts: zeroCounts(),
    faults: [],
    listeners: [],
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    control: options.control,
  };
  const handler = createHandler(state);
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler)
    : createHttpServer(handler);
  // Keep-alive sockets would hold stop() until the client lets go.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}${BASE_PATH}`;
  return {
    url,
    port,
    cards(template, o = {}) {
      if (!store.templates.has(template)) throw new Error(`no template '${template}' in the simulator`);
      const list = [...store.query(template, { includeDeleted: o.includeDeleted ?? false })].reverse();
      return list.map((c) => cardJson(store, c));
    },
    card(id) {
      const c = store.card(id);
      return c ? cardJson(store, c) : undefined;
    },
    insert(template, folder, data) {
      const t = store.templates.get(template);
      if (!t) throw new Error(`no template '${template}' in the simulator`);
      const outcome = store.write('seed', now, t, { folderCode: folder, data: toWriteShape(store, template, data) });
      if (!outcome.ok) {
        const errors = outcome.errors.length > 0 ? outcome.errors : [attributeError(undefined, null, 'refused')];
        throw new Error(`insert into ${template} refused: ${errors.map((e) => e.message).join('; ')}`);
      }
      return cardJson(store, outcome.card);
    },
    trash(id) {
      const c = store.card(id);
      if (!c) throw new Error(`no data card ${id} in the simulator`);
      return store.trash(c);
    },
    get requests() {
      return state.requests;
    },
    counts: () => ({ ...state.counts }),
    fault(f) {
      state.faults.push({ ...f, left: f.times ?? 1 });
    },
    waitForRequest(match = {}, timeoutMs = 10_000) {
      return new Promise<RecordedRequest>((resolve, reject) => {
        const listener = (r: RecordedRequest): void => {
          if (match.method && match.method.toUpperCase() !== r.method) return;
          if (match.kind && match.kind !== r.kind) return;
          if (match.path && !match.path.test(r.path)) return;
          done();
          resolve(r);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `no request matching ${JSON.stringify({ ...match, path: match.path?.source })} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          state.listeners.splice(state.listeners.indexOf(listener), 1);
        };
        state.listeners.push(listener);
      });
    },
    clearFaults() {
      state.faults.length = 0;
    },
    clearRequests() {
      state.requests.length = 0;
    },
    expireTokens: () => state.tokens.revokeAll(),
    advanceClock(seconds) {
      offset += seconds * 1000;
    },
    now,
    reset() {
      offset = 0;
      store.reset();
      state.requests.length = 0;
      state.counts = zeroCounts();
      state.faults.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
