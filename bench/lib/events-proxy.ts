/**
 * A reference for the event benchmark (bench/events.ts --with-proxy), not Provisio: the least a Node process can
 * do for an invocation. A plain node:http server that reads and parses the invoke body, makes the same upstream
 * call with undici (one Agent, default settings, as the controller's session has) and answers the same JSON
 * shape. No routing, auth, validation, substitution, limits, logging or metrics. Its throughput is what any
 * controller written in Node can reach on this machine with this load; Provisio's overhead is measured
 * against the upstream (A), this shows how much of it is inherent to a second HTTP hop.
 *
 *   node --import tsx bench/lib/events-proxy.ts --upstream http://127.0.0.1:PORT
 *
 * IPC as bench/lib/events-controller.ts: {type: 'ready', port}, {type: 'rss'} every 100 ms, 'stats', 'stop'.
 */
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
import { type ParentMessage, statsMessage } from './events-protocol.js';
import { option } from './measure.js';

interface Invocation {
  input: { method: 'PATCH'; url: string; body: string };
  data: { id: string; mail: string };
}

const upstream = option('--upstream');
if (!upstream) throw new Error('--upstream URL is required');
const dispatcher = new Agent();
let peakRss = process.memoryUsage.rss();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const started = performance.now();
    const inv = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Invocation;
    const url = `${upstream}/api${inv.input.url.replace('$id$', encodeURIComponent(inv.data.id))}`;
    const body = inv.input.body.replace('$mail$', inv.data.mail);
    request(url, {
      method: inv.input.method,
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body,
      dispatcher,
    })
      .then(async (up) => {
        const response = JSON.parse(await up.body.text()) as unknown;
        const durationMs = Math.round((performance.now() - started) * 100) / 100;
        const text = `${JSON.stringify({ state: 'Completed', statusCode: up.statusCode, response, exception: null, durationMs })}\n`;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      })
      .catch((e: unknown) => {
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e) }));
      });
  });
});

const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  process.send?.({ type: 'rss', rss });
}, 100);

const stop = (): void => {
  clearInterval(sampler);
  server.closeAllConnections();
  server.close(() => {
    void dispatcher.close().finally(() => process.exit(0));
  });
};
process.on('message', (m: ParentMessage) => {
  if (m === 'stats') process.send?.(statsMessage(peakRss));
  if (m === 'stop') stop();
});
process.on('disconnect', stop);

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ type: 'ready', port, rssMb: process.memoryUsage.rss() / 1024 / 1024 });
});
