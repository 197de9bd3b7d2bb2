/**
 * The upstream REST API of the event benchmark, run as its own process (bench/events.ts forks it):
 *
 *   PATCH /api/users/:id   →  200 {"id": ":id", "updated": true}
 *
 * Plain node:http; the request body is read in full (and otherwise ignored), as an API would. Anything else
 * answers 404. Sends {type: 'ready', port} over IPC when it listens; answers 'stats' (CPU time, requests) and
 * exits on 'stop'.
 */
import { createServer } from 'node:http';
import { type ParentMessage, statsMessage } from './events-protocol.js';

const PATH = /^\/api\/users\/([^/?#]+)$/;

let requests = 0;
let peakRss = process.memoryUsage.rss();

const server = createServer((req, res) => {
  const m = req.method === 'PATCH' ? PATH.exec(req.url ?? '') : null;
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
  });
  req.on('end', () => {
    if (!m) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    requests++;
    const body = `{"id":${JSON.stringify(decodeURIComponent(m[1]))},"updated":true,"bytes":${size}}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
// Longer than any pause between the benchmark's phases, so no pooled connection is closed under a request.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;

const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 100);
sampler.unref();

process.on('message', (m: ParentMessage) => {
  if (m === 'stats') process.send?.(statsMessage(peakRss, requests));
  if (m === 'stop') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
// Never outlive the benchmark: a parent that dies closes the IPC channel.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'ready', port, rssMb: process.memoryUsage.rss() / 1024 / 1024 });
});
