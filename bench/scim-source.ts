/**
 * The SCIM source of bench/scim.ts, in its own process: `--users N --groups M --page P`. It renders every page
 * of /Users and /Groups (startIndex/count, totalResults, 20 members per group, the enterprise extension) before it
 * reports ready over IPC, and serves them from memory, so that the figures are the client's.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { intOption } from './lib/measure.js';

const users = intOption('--users', 20_000);
const groups = intOption('--groups', 1_000);
const page = intOption('--page', 200);
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const AUTH = `Basic ${Buffer.from('bench:bench-pa55').toString('base64')}`;

const user = (i: number) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
  id: `u${i}`,
  userName: `user${i}@example.com`,
  name: { givenName: `Given${i}`, familyName: `Family${i}` },
  displayName: `Given${i} Family${i}`,
  active: true,
  emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }],
  [ENTERPRISE]: { employeeNumber: String(100000 + i), department: `Dept ${i % 40}` },
  meta: { resourceType: 'User', lastModified: '2026-11-01T00:00:00Z', location: `/scim/v2/Users/u${i}` },
});
const group = (g: number) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
  id: `g${g}`,
  displayName: `app-${g}`,
  members: Array.from({ length: 20 }, (_, k) => ({ value: `u${((g * 20 + k) % users) + 1}`, type: 'User' })),
  meta: { resourceType: 'Group', lastModified: '2026-11-01T00:00:00Z' },
});

function render(total: number, make: (i: number) => unknown): Map<number, string> {
  const pages = new Map<number, string>();
  for (let start = 1; start <= total; start += page) {
    const resources = [];
    for (let i = start; i < Math.min(start + page, total + 1); i++) resources.push(make(i));
    pages.set(
      start,
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: total,
        startIndex: start,
        itemsPerPage: page,
        Resources: resources,
      }),
    );
  }
  return pages;
}

const started = performance.now();
const pages = { '/scim/v2/Users': render(users, user), '/scim/v2/Groups': render(groups, group) };
const renderMs = performance.now() - started;
const empty = JSON.stringify({ schemas: [], totalResults: 0, Resources: [] });

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.headers.authorization !== AUTH) {
    res.writeHead(401).end();
    return;
  }
  const set = pages[url.pathname as keyof typeof pages];
  const body = set?.get(Number(url.searchParams.get('startIndex') ?? '1')) ?? empty;
  res.writeHead(200, { 'Content-Type': 'application/scim+json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port, renderMs });
});
process.on('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0));
});
