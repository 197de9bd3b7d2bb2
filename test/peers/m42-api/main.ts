/**
 * The simulator as a process of its own, for the quickstart and the benchmark:
 *
 *   tsx test/peers/m42-api/main.ts --port 0 --seed seed.json [--tls-cert server.crt --tls-key server.key]
 *
 * prints one JSON line `{"url": "http://127.0.0.1:PORT/rest-api/itsm/v1", "port": PORT, "pid": PID}` on stdout
 * once it listens, and serves until SIGTERM or SIGINT (exit 0). The seed file is JSON:
 * `{templates: TemplateConfig[], users?: User[], tokenTtlSeconds?, firstId?, cards?: [{template, folder, data}]}`
 * (cards in the write or the plain shape of `api.insert`).
 *
 * Test control, outside the API's base path and without authentication (a separate process has no other way
 * in): `GET /__sim/counts`, `GET /__sim/cards/{template}[?includeDeleted=true]`, `POST /__sim/reset`,
 * `POST /__sim/expire-tokens`, `POST /__sim/fault` with a Fault as JSON (`path` as a regular expression's
 * source). These calls are not in the request log or the counts.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { type Fault, type M42Api, type M42ApiOptions, startM42Api } from './index.js';

interface Seed extends Omit<M42ApiOptions, 'tls' | 'port' | 'control'> {
  cards?: Array<{ template: string; folder: string; data: Record<string, unknown> }>;
}

function json(res: ServerResponse, status: number, body: unknown): true {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
  return true;
}

function control(getApi: () => M42Api | undefined) {
  return (req: IncomingMessage, res: ServerResponse, body: string): boolean => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (!url.pathname.startsWith('/__sim/')) return false;
    const api = getApi();
    if (!api) return json(res, 503, { message: 'starting' });
    const what = url.pathname.slice('/__sim/'.length);
    try {
      if (req.method === 'GET' && what === 'counts') return json(res, 200, api.counts());
      if (req.method === 'GET' && what.startsWith('cards/')) {
        const template = decodeURIComponent(what.slice('cards/'.length));
        return json(
          res,
          200,
          api.cards(template, { includeDeleted: url.searchParams.get('includeDeleted') === 'true' }),
        );
      }
      if (req.method === 'POST' && what === 'reset') {
        api.reset();
        return json(res, 200, { ok: true });
      }
      if (req.method === 'POST' && what === 'expire-tokens') {
        api.expireTokens();
        return json(res, 200, { ok: true });
      }
      if (req.method === 'POST' && what === 'fault') {
        const f = JSON.parse(body) as Omit<Fault, 'path'> & { path?: string };
        api.fault({ ...f, path: f.path === undefined ? undefined : new RegExp(f.path) });
        return json(res, 200, { ok: true });
      }
    } catch (e) {
      return json(res, 400, { message: (e as Error).message });
    }
    return json(res, 404, { message: `no control endpoint ${req.method} ${url.pathname}` });
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      seed: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
    },
  });
  if (!values.seed) throw new Error('--seed FILE is required (JSON with templates, users, cards)');
  const seed = JSON.parse(readFileSync(values.seed, 'utf8')) as Seed;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port`);
  const tls =
    values['tls-cert'] && values['tls-key']
      ? { cert: readFileSync(values['tls-cert'], 'utf8'), key: readFileSync(values['tls-key'], 'utf8') }
      : undefined;
  let api: M42Api | undefined;
  const { cards, ...options } = seed;
  api = await startM42Api({ ...options, tls, port, control: control(() => api) });
  for (const c of cards ?? []) api.insert(c.template, c.folder, c.data);
  const stop = (): void => {
    api?.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ url: api.url, port: api.port, pid: process.pid })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`m42-api simulator: ${(e as Error).message}\n`);
  process.exit(1);
});
