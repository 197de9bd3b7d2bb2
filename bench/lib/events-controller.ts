/**
 * The Provisio controller of the event benchmark, run as its own process (bench/events.ts forks it):
 * startServedRuntime on a temp directory holding a REST connector to the benchmark's upstream (auth none) and one
 * event task, listening on 127.0.0.1 with one bearer token, logging with the product's logger (pino to
 * stderr, which the parent points at a file or /dev/null) at the given level.
 *
 *   node --import tsx bench/lib/events-controller.ts --upstream http://127.0.0.1:PORT --token T \
 *     --log-level warn|info [--max-concurrency 128]
 *   node --import tsx bench/lib/events-controller.ts --graph https://localhost:PORT --ca-file F --token T ...
 *     (the Graph phase: an msgraph connector to the Graph simulator, its app secret and CA as mounted Secrets,
 *     and an event task whose identity mapping maps id (unique) and mail, for updateUser)
 *
 * IPC: sends {type: 'ready', port} when listening, then {type: 'rss'} every 100 ms; answers 'stats' with its
 * CPU time and RSS; on 'stop' closes the runtime, removes the temp directory and exits (which writes the
 * profile when started with --cpu-prof).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log/logger.js';
import { LocalSecretResolver } from '../../src/secrets/resolver.js';
import { TokenAuth } from '../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../src/server/serve.js';
import { GRAPH_APP } from './events-graph-app.js';
import { NAMESPACE, type ParentMessage, statsMessage, TASK } from './events-protocol.js';
import { intOption, option } from './measure.js';

const resources = (upstream: string, maxConcurrency: number): string => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: users-api, namespace: ${NAMESPACE}}
spec:
  type: rest
  rest:
    baseUrl: ${upstream}/
    auth: {type: none}
    pagination: {type: none}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: ${TASK}, namespace: ${NAMESPACE}}
spec:
  connectorRef: {name: users-api}
  usage: event
  event: {query: /api, maxConcurrency: ${maxConcurrency}, timeout: 10s}
`;

const graphResources = (graph: string, maxConcurrency: number): string => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: entra, namespace: ${NAMESPACE}}
spec:
  type: msgraph
  msgraph:
    tenantId: ${GRAPH_APP.tenantId}
    clientId: ${GRAPH_APP.clientId}
    loginUrl: ${graph}
    graphUrl: ${graph}
    tls: {caSecretRef: {name: entra-ca}}
    auth: {type: secret, secretRef: {name: entra-app}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: ${TASK}, namespace: ${NAMESPACE}}
spec:
  connectorRef: {name: entra}
  usage: event
  mappingsType: identity
  event: {maxConcurrency: ${maxConcurrency}, timeout: 10s}
  mappings:
    identity:
      template: account
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: mail, local: mail}
`;

/** The Graph phase's Secrets, laid out as Kubernetes mounts them. */
function graphSecrets(dir: string, caFile: string): string {
  const root = join(dir, 'secrets');
  mkdirSync(join(root, 'entra-app'), { recursive: true });
  mkdirSync(join(root, 'entra-ca'), { recursive: true });
  writeFileSync(join(root, 'entra-app', 'clientSecret'), GRAPH_APP.clientSecret);
  copyFileSync(caFile, join(root, 'entra-ca', 'ca.crt'));
  return root;
}

async function main(): Promise<void> {
  const graph = option('--graph');
  const caFile = option('--ca-file');
  const upstream = option('--upstream') ?? graph;
  const token = option('--token');
  const level = option('--log-level') ?? 'warn';
  if (!upstream || !token) throw new Error('--upstream URL and --token TOKEN are required');
  const maxConcurrency = intOption('--max-concurrency', 128);

  const dir = mkdtempSync(join(tmpdir(), 'provisio-bench-events-'));
  if (graph && !caFile) throw new Error('--graph needs --ca-file');
  writeFileSync(
    join(dir, 'users.yaml'),
    graph ? graphResources(graph, maxConcurrency) : resources(upstream, maxConcurrency),
  );
  const secretsDir = graph && caFile ? graphSecrets(dir, caFile) : undefined;
  let runtime: ServedRuntime | undefined;
  let peakRss = process.memoryUsage.rss();
  let sampler: NodeJS.Timeout | undefined;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (sampler) clearInterval(sampler);
    try {
      await runtime?.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
  };
  process.on('message', (m: ParentMessage) => {
    if (m === 'stats') process.send?.(statsMessage(peakRss));
    if (m === 'stop') void stop();
  });
  // Never outlive the benchmark: a parent that dies closes the IPC channel.
  process.on('disconnect', () => void stop());

  runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    log: createLogger({ level, base: { component: 'controller' } }),
    secrets: new LocalSecretResolver(secretsDir, {}),
    listen: '127.0.0.1:0',
    auth: new TokenAuth([token]),
  });
  sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
    process.send?.({ type: 'rss', rss });
  }, 100);
  process.send?.({ type: 'ready', port: runtime.address!.port, rssMb: process.memoryUsage.rss() / 1024 / 1024 });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
