/**
 * HTTP routing of the fake API server: bearer-token authentication (401 Status), the request log, injected
 * faults, discovery, and the resource paths (`/api/v1/...`, `/apis/<group>/<version>/...`, namespaced and
 * cluster-wide, `/status`, the legacy `/watch/` prefix) mapped onto registry and watch calls. Bodies are JSON
 * (or YAML for create/update); the media-type, size and decoding errors are the real server's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { discovery, VERSION_INFO } from './discovery.js';
import type { FaultInjector } from './faults.js';
import { isObject } from './json.js';
import { STRATEGIC_MERGE_PATCH } from './patch.js';
import type { DeleteOptions, FieldValidation, Registry, WriteResult } from './registry.js';
import { groupResource, type ResourceType } from './resources.js';
import { ApiError, errors, failure, genericServerResponse, type Status } from './status.js';
import type { WatchHub } from './watch.js';

export interface RecordedRequest {
  method: string;
  /** Decoded path without the query. */
  path: string;
  query: Record<string, string>;
  contentType?: string;
  /** The parsed body (JSON or YAML) of writes, or the raw text when it did not parse. */
  body?: unknown;
  watch: boolean;
  /** Status code answered (for watches, 200 once the stream starts). */
  status?: number;
  time: number;
}

export interface HandlerContext {
  registry: Registry;
  hub: WatchHub;
  faults: FaultInjector;
  token: string;
  /** Requests without a token are system:anonymous and get 403 (as with --anonymous-auth=true); else 401. */
  anonymousAuth: boolean;
  requests: RecordedRequest[];
  serverAddress: () => string;
}

const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPrefix: boolean;
}

function resolve(path: string, registry: Registry): Route | 'discovery' | undefined {
  let segs: string[];
  try {
    segs = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else {
    return segs[0] === 'api' || segs[0] === 'apis' ? 'discovery' : undefined;
  }
  if (rest.length === 0) return 'discovery';
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  const nsObjectSub =
    group === '' && rest[0] === 'namespaces' && rest.length === 3 && !registry.types.byPath(group, version, rest[2]);
  if (rest[0] === 'namespaces' && rest.length >= 3 && !nsObjectSub) {
    const type = registry.types.byPath(group, version, rest[2]);
    if (!type?.namespaced || rest.length > 5) return undefined;
    return { type, namespace: rest[1], name: rest[3], subresource: rest[4], watchPrefix };
  }
  const type = registry.types.byPath(group, version, rest[0]);
  if (!type || rest.length > 3) return undefined;
  if (type.namespaced && rest.length > 1) return undefined;
  return { type, name: rest[1], subresource: rest[2], watchPrefix };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(errors.requestEntityTooLarge(MAX_REQUEST_BYTES));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const mediaType = (header: string | undefined): string => (header ?? '').split(';')[0].trim().toLowerCase();

function parseObjectBody(text: string, contentType: string): unknown {
  if (contentType === 'application/yaml') {
    try {
      return parseYaml(text);
    } catch (e) {
      throw errors.badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  if (contentType !== '' && contentType !== 'application/json' && contentType !== '*/*') {
    throw errors.unsupportedMediaType(
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

function sendStatus(res: ServerResponse, status: Status, headers: Record<string, string> = {}) {
  sendJson(res, status.code, status, headers);
}

const truthy = (v: string | null): boolean => v === 'true' || v === '1';

export function createHandler(ctx: HandlerContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((e) => {
      const status = e instanceof ApiError ? e.status : errors.internal(String((e as Error)?.stack ?? e)).status;
      if (!res.headersSent) sendStatus(res, status, e instanceof ApiError ? e.headers : {});
      else res.end();
    });
  };
}

async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  const q = url.searchParams;
  const record: RecordedRequest = {
    method,
    path: safeDecode(path),
    query: Object.fromEntries(q.entries()),
    contentType: req.headers['content-type'],
    watch: truthy(q.get('watch')),
    time: Date.now(),
  };
  ctx.requests.push(record);
  res.on('finish', () => {
    record.status ??= res.statusCode;
  });

  if (['/healthz', '/livez', '/readyz'].includes(path)) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('ok');
    return;
  }
  if (path === '/version') return sendJson(res, 200, VERSION_INFO);

  const auth = req.headers.authorization;
  if (auth !== `Bearer ${ctx.token}`) {
    if (!auth && ctx.anonymousAuth) {
      return sendStatus(
        res,
        failure(
          403,
          'Forbidden',
          `forbidden: User "system:anonymous" cannot ${method.toLowerCase()} path "${path}"`,
          {},
        ),
      );
    }
    return sendStatus(res, errors.unauthorized().status);
  }

  const route = resolve(path, ctx.registry);

  const fault = ctx.faults.take(method, record.path, record.watch);
  if (fault) {
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.reset) {
      req.socket.destroy();
      return;
    }
    if (fault.status) {
      let status = genericServerResponse(fault.status, fault.retryAfterSeconds);
      if (fault.status === 409 && typeof route === 'object' && route.name) {
        status = errors.conflict(groupResource(route.type), route.name).status;
      }
      if (fault.reason) status.reason = fault.reason;
      if (fault.message) status.message = fault.message;
      const headers: Record<string, string> = fault.retryAfterSeconds
        ? { 'Retry-After': String(fault.retryAfterSeconds) }
        : {};
      return sendStatus(res, status, headers);
    }
  }

  if (route === 'discovery') {
    const doc = method === 'GET' ? discovery(path, ctx.registry.types.types, ctx.serverAddress()) : undefined;
    if (!doc) return sendStatus(res, errors.notFoundPath().status);
    return sendJson(res, 200, doc);
  }
  if (!route) return sendStatus(res, errors.notFoundPath().status);
  if (route.subresource && (route.subresource !== 'status' || !route.type.statusSubresource || !route.name)) {
    return sendStatus(res, errors.notFoundPath().status);
  }

  const { registry } = ctx;
  const { type, namespace, name, subresource } = route;
  const dryRun = q.getAll('dryRun').includes('All');
  const fv = q.get('fieldValidation');
  if (fv && !['Strict', 'Warn', 'Ignore'].includes(fv)) {
    return sendStatus(
      res,
      errors.badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict": ${fv}`).status,
    );
  }
  const writeOpts = { dryRun, fieldValidation: (fv ?? undefined) as FieldValidation | undefined, subresource };
  const listQuery = {
    labelSelector: q.get('labelSelector'),
    fieldSelector: q.get('fieldSelector'),
    limit: q.has('limit') ? Number(q.get('limit')) : undefined,
    continue: q.get('continue'),
  };
  const answer = (r: WriteResult) =>
    sendJson(
      res,
      r.code,
      r.object,
      r.warnings.length > 0 ? { Warning: r.warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {},
    );

  const isWatch = record.watch || route.watchPrefix;
  if (method === 'GET' && (isWatch || !name)) {
    if (!isWatch) return sendJson(res, 200, registry.list(type, namespace, listQuery));
    const fs = name
      ? [listQuery.fieldSelector, `metadata.name=${name}`].filter(Boolean).join(',')
      : listQuery.fieldSelector;
    ctx.hub.serve(req, res, {
      type,
      namespace,
      query: { labelSelector: listQuery.labelSelector, fieldSelector: fs },
      resourceVersion: q.get('resourceVersion') ?? undefined,
      allowBookmarks: truthy(q.get('allowWatchBookmarks')),
      timeoutSeconds: q.has('timeoutSeconds') ? Number(q.get('timeoutSeconds')) : undefined,
      sendInitialEvents: truthy(q.get('sendInitialEvents')),
    });
    record.status = res.statusCode;
    return;
  }

  if (!name) {
    if (method === 'POST') {
      const text = await readBody(req);
      const body = parseObjectBody(text, mediaType(req.headers['content-type']));
      record.body = body;
      return answer(registry.create(type, namespace, body, writeOpts));
    }
    if (method === 'DELETE') {
      const opts = await deleteOptions(req, record);
      return answer(registry.deleteCollection(type, namespace, listQuery, { ...opts, dryRun }));
    }
    return sendStatus(res, errors.methodNotAllowed().status);
  }

  switch (method) {
    case 'GET':
      return sendJson(res, 200, registry.get(type, namespace, name));
    case 'PUT': {
      const text = await readBody(req);
      const body = parseObjectBody(text, mediaType(req.headers['content-type']));
      record.body = body;
      return answer(registry.update(type, namespace, name, body, writeOpts));
    }
    case 'PATCH': {
      const ct = mediaType(req.headers['content-type']);
      const text = await readBody(req);
      try {
        record.body = JSON.parse(text);
      } catch {
        record.body = text;
      }
      const accepted = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
      if (type.strategicMerge) accepted.splice(2, 0, STRATEGIC_MERGE_PATCH);
      if (!accepted.includes(ct) && ct !== STRATEGIC_MERGE_PATCH) {
        throw errors.unsupportedMediaType(
          `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
        );
      }
      return answer(registry.patch(type, namespace, name, ct, text, writeOpts));
    }
    case 'DELETE': {
      if (subresource) return sendStatus(res, errors.methodNotAllowed().status);
      const opts = await deleteOptions(req, record);
      return answer(registry.delete(type, namespace, name, { ...opts, dryRun }));
    }
    default:
      return sendStatus(res, errors.methodNotAllowed().status);
  }
}

async function deleteOptions(req: IncomingMessage, record: RecordedRequest): Promise<DeleteOptions> {
  const text = await readBody(req);
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
  record.body = body;
  if (!isObject(body)) return {};
  const pre = isObject(body.preconditions) ? body.preconditions : {};
  return {
    preconditions: {
      uid: typeof pre.uid === 'string' ? pre.uid : undefined,
      resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined,
    },
    dryRun: Array.isArray(body.dryRun) && body.dryRun.includes('All'),
  };
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}
