/**
 * The misbehaving REST source, as its own process (started by misbehaving-rest.ts; never imported by
 * tests). It serves `GET /people` (records `{ id, name }`, 1..n) under `{ data: [...] }` in one paging
 * style and misbehaves as the current scenario says. `PUT /__scenario` sets the scenario (and restores
 * the full record set), `GET /__requests` lists the requests served since. It prints `listening PORT`
 * once it accepts connections on 127.0.0.1.
 */
import { createServer, type ServerResponse } from 'node:http';

/** 1-based page numbers throughout. */
export type Misbehaviour =
  /** From page `fromPage` on, the page before it is served again (an API that ignores the paging parameters). */
  | { kind: 'repeatPage'; fromPage: number }
  /** Page `page` is empty; the pages after it are served normally. */
  | { kind: 'emptyPage'; page: number }
  /** Page `page` lacks its last `missing` records; the pages after it are served normally. */
  | { kind: 'shortPage'; page: number; missing: number }
  /** Right after page `afterPage` is served, the record with id `id` is removed from the source. */
  | { kind: 'removeAfterPage'; afterPage: number; id: number }
  /** Page `page` links (or sends a token) back to page 2. */
  | { kind: 'repeatLink'; page: number }
  /** Page `page`'s next link carries `user:password@` before the host. */
  | { kind: 'userinfoLink'; page: number; userinfo: string };

export interface Scenario {
  records: number;
  pageSize: number;
  /** offset: ?offset&limit; page: ?page&size (first page 1); nextLink: links.next (?cursor=N); token: nextPageToken / ?pageToken. */
  paging: 'offset' | 'page' | 'nextLink' | 'token';
  misbehave?: Misbehaviour;
  /**
   * The total announced on every page: `header` as X-Total-Count, `body` at meta.total. `value` overrides
   * the real count (an API whose count is off). Without it, no total is announced.
   */
  total?: { in: 'header' | 'body'; value?: number };
  /** Names that differ from `person N`, by id (a change the load must carry). */
  renamed?: Record<string, string>;
}

interface Served {
  method: string;
  url: string;
}

let scenario: Scenario = { records: 0, pageSize: 50, paging: 'offset' };
let rows: Array<{ id: number; name: string }> = [];
const served: Served[] = [];

function setScenario(next: Scenario): void {
  scenario = next;
  rows = Array.from({ length: next.records }, (_, k) => ({
    id: k + 1,
    name: next.renamed?.[String(k + 1)] ?? `person ${k + 1}`,
  }));
  served.length = 0;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The 0-based page the request asks for. */
function pageIndex(url: URL, s: Scenario): number {
  const q = url.searchParams;
  switch (s.paging) {
    case 'offset':
      return Math.floor(Number(q.get('offset') ?? 0) / s.pageSize);
    case 'page':
      return Number(q.get('page') ?? 1) - 1;
    case 'nextLink':
      return Number(q.get('cursor') ?? 0);
    case 'token':
      return Number((q.get('pageToken') ?? 'tok-0').replace(/^tok-/, ''));
  }
}

function people(res: ServerResponse, url: URL, host: string): void {
  const s = scenario;
  const m = s.misbehave;
  const asked = pageIndex(url, s);
  const repeating = m?.kind === 'repeatPage' && asked + 1 >= m.fromPage;
  const index = repeating ? m.fromPage - 2 : asked;
  // Offset paging reads from the offset asked, so a record removed before it shifts what it gets.
  const start = s.paging === 'offset' && !repeating ? Number(url.searchParams.get('offset') ?? 0) : index * s.pageSize;
  let slice = rows.slice(start, start + s.pageSize);
  if (m?.kind === 'emptyPage' && asked + 1 === m.page) slice = [];
  if (m?.kind === 'shortPage' && asked + 1 === m.page) slice = slice.slice(0, Math.max(0, slice.length - m.missing));
  const more = start + s.pageSize < rows.length;
  const body: Record<string, unknown> = { data: slice };
  const headers: Record<string, string> = {};
  const total = s.total?.value ?? rows.length;
  if (s.total?.in === 'header') headers['X-Total-Count'] = String(total);
  if (s.total?.in === 'body') body.meta = { total };
  let next: number | undefined = more ? index + 1 : undefined;
  if (m?.kind === 'repeatLink' && asked + 1 === m.page) next = 1;
  if (next !== undefined && s.paging === 'nextLink') {
    const link = new URL(`http://${host}/people`);
    link.searchParams.set('cursor', String(next));
    let href = link.href;
    if (m?.kind === 'userinfoLink' && asked + 1 === m.page) href = href.replace('http://', `http://${m.userinfo}@`);
    body.links = { next: href };
  }
  if (next !== undefined && s.paging === 'token') body.nextPageToken = `tok-${next}`;
  send(res, 200, body, headers);
  if (m?.kind === 'removeAfterPage' && asked + 1 === m.afterPage) rows = rows.filter((r) => r.id !== m.id);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const host = req.headers.host ?? '127.0.0.1';
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/__scenario' && req.method === 'PUT') {
      setScenario(JSON.parse(Buffer.concat(chunks).toString()) as Scenario);
      send(res, 200, { ok: true });
      return;
    }
    if (url.pathname === '/__requests' && req.method === 'GET') {
      send(res, 200, served);
      return;
    }
    served.push({ method: req.method ?? 'GET', url: req.url ?? '/' });
    if (url.pathname === '/people' && req.method === 'GET') {
      people(res, url, host);
      return;
    }
    send(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
