/**
 * A reference for the event benchmark (bench/events.ts --with-proxy), not Provisio: the least a Node process can
 * do for an invocation. A plain node:http server that reads and parses the invoke body, makes the same upstream
 * call with undici (one Agent, default settings, as the controller's session has) and answers the same JSON
 * shape. No routing, auth, validation, substitution, limits, logging or metrics. Its throughput is what any
 * controller written in Node can reach on this machine with this load; Provisio's overhead is measured
 * against the upstream (A), this shows how much of it is inherent to a second HTTP hop.
 *
 *   node --import tsx bench/lib/events-proxy.ts --upstream http://127.0.0.1:PORT
 *   node --import tsx bench/lib/events-proxy.ts --graph https://localhost:PORT --ca-file F
 *     (the Graph phase: one client-credentials token fetched at start, then per invocation of updateUser the
 *     PATCH /v1.0/users/{id} Provisio makes, over HTTPS trusting the simulator's CA)
 *
 * IPC as bench/lib/events-controller.ts: {type: 'ready', port}, {type: 'rss'} every 100 ms, 'stats', 'stop'.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
import { graphToken } from './events-graph-app.js';
import { type ParentMessage, statsMessage } from './events-protocol.js';
import { option } from './measure.js';

interface Invocation {
  input: { method: 'PATCH'; url: string; body: string };
  data: { id: string; mail: string };
}

const graph = option('--graph');
const upstream = option('--upstream') ?? graph;
if (!upstream) throw new Error('--upstream URL (or --graph URL --ca-file F) is required');
const caFile = option('--ca-file');
const dispatcher = new Agent(caFile ? { connect: { ca: readFileSync(caFile, 'utf8') } } : {});
const bearer = graph
  ? `Bearer ${await graphToken(graph, async (url, form) => {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        dispatcher,
      });
      return res.body.json();
    })}`
  : undefined;

interface GraphInvocation {
  data: { object_id: string; mail: string };
}

/** The Graph phase's call: PATCH /v1.0/users/{id} {mail}, answered as Provisio answers updateUser. */
function graphCall(raw: string, started: number, res: import('node:http').ServerResponse): void {
  const inv = JSON.parse(raw) as GraphInvocation;
  request(`${graph}/v1.0/users/${encodeURIComponent(inv.data.object_id)}`, {
    method: 'PATCH',
    headers: { accept: 'application/json', 'content-type': 'application/json', authorization: bearer as string },
    body: JSON.stringify({ mail: inv.data.mail }),
    dispatcher,
  })
    .then(async (up) => {
      await up.body.text();
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      const text = `${JSON.stringify({ state: up.statusCode === 204 ? 'Completed' : 'Exception', statusCode: up.statusCode, response: { id: inv.data.object_id }, exception: null, durationMs })}\n`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    })
    .catch((e: unknown) => {
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e) }));
    });
}
let peakRss = process.memoryUsage.rss();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const started = performance.now();
    if (graph) {
      graphCall(Buffer.concat(chunks).toString('utf8'), started, res);
      return;
    }
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
