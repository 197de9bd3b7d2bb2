/**
 * The REST source of the extract benchmark, run as its own process (bench/extract.ts forks it) so that
 * generating and serializing pages uses the other core instead of competing with the measured client.
 *
 *   GET /employees?page=P&size=S   →  {"items": [...S records...], "page": P, "size": S, "total": N}
 *
 * pageIncrement paging (page is 1-based); a page past the end has no items. Plain node:http, no framework.
 *
 * Pages of the benchmark's size (1,000) are rendered once, before the server reports that it listens, and
 * then served from memory: generating a page costs ~20 ms of CPU, which would make the source the
 * bottleneck and hide the client's own cost. The benchmark measures the client (Provisio), so the source
 * answers as fast as the loopback allows. Other sizes are rendered per request.
 * Usage: node --import tsx bench/source-server.ts --records N   (prints/sends {"port": ...} when listening)
 */
import { createServer } from 'node:http';
import { PAGE_SIZE, pageBody, QUERY } from './lib/dataset.js';

function argValue(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const n = Number(process.argv[at + 1]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer`);
  return n;
}

const total = argValue('--records', 100_000);
let requests = 0;

const renderStarted = performance.now();
const pages: Buffer[] = [];
for (let page = 1; (page - 1) * PAGE_SIZE <= total; page++) pages.push(Buffer.from(pageBody(total, page, PAGE_SIZE)));
const renderMs = Math.round(performance.now() - renderStarted);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://source');
  if (req.method !== 'GET' || url.pathname !== QUERY) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":["not found"]}');
    return;
  }
  const page = Number(url.searchParams.get('page') ?? '1');
  const size = Number(url.searchParams.get('size') ?? String(PAGE_SIZE));
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 10_000) {
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":["bad page or size"]}');
    return;
  }
  requests++;
  const cached = size === PAGE_SIZE ? pages[page - 1] : undefined;
  const body = cached ?? Buffer.from(pageBody(total, page, size));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 30_000;

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  if (process.send) process.send({ port, renderMs });
  else console.log(JSON.stringify({ port, records: total, renderMs }));
});

const stop = (): void => {
  server.close();
  server.closeAllConnections();
  if (process.send) process.disconnect();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('message', (m: unknown) => {
  if (m === 'stats' && process.send) {
    const cpu = process.cpuUsage();
    process.send({ requests, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  if (m === 'stop') stop();
});
