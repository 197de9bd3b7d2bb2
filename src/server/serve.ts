/**
 * A runtime with its HTTP listener (DESIGN §3: one listener): `provisio run --listen`, in git and in Kubernetes
 * mode, and the integration tests start the controller through here. The runtime (controller/runtime.ts) knows
 * nothing of HTTP: this module gives it the Prometheus metrics, as the ports that count runs and invocations,
 * and, with `listen`, the `serve` step that mounts /healthz, /readyz, /metrics, the status API and the invoke
 * endpoint on what the runtime serves, listens, and reports ready.
 */
import type { AddressInfo } from 'node:net';
import {
  type Listener,
  type Runtime,
  type RuntimeOptions,
  type ServedParts,
  startRuntime,
} from '../controller/runtime.js';
import { TokenAuth } from './auth.js';
import { mountConnectorOperations } from './connector-operations.js';
import { HttpServer } from './http-server.js';
import { mountInvokeApi } from './invoke-api.js';
import { Metrics } from './metrics.js';
import { mountObservabilityApi } from './observability-api.js';
import { mountStatusApi } from './status-api.js';

export interface ServeOptions extends Omit<RuntimeOptions, 'serve' | 'metrics'> {
  /** Serve the API on HOST:PORT or :PORT; without, nothing listens (and no invocation service is built). */
  listen?: string;
  /** Bearer tokens of the API; default: $PROVISIO_API_TOKENS. */
  auth?: TokenAuth;
  /** Labels on every metric (the environment type). */
  metricLabels?: Record<string, string>;
}

export interface ServedRuntime extends Runtime {
  metrics: Metrics;
}

export async function startServedRuntime(opts: ServeOptions): Promise<ServedRuntime> {
  const { listen, auth, metricLabels, ...runtimeOptions } = opts;
  const metrics = new Metrics(metricLabels);
  const runtime = await startRuntime({
    ...runtimeOptions,
    metrics,
    serve: listen
      ? (parts) => startListener(parts, { listen, auth: auth ?? TokenAuth.fromEnvironment(), metrics })
      : undefined,
  });
  return { ...runtime, metrics };
}

/** Mounts the endpoints on a new HTTP server, listens, and reports ready (the runtime has loaded and started). */
export async function startListener(
  parts: ServedParts,
  opts: { listen: string; auth: TokenAuth; metrics: Metrics },
): Promise<Listener> {
  const { log } = parts;
  const server = new HttpServer({ log, auth: opts.auth, metrics: opts.metrics });
  opts.metrics.observeResources(parts);
  mountStatusApi(server, parts);
  mountConnectorOperations(server, parts);
  mountObservabilityApi(server, parts);
  mountInvokeApi(server, parts.invocations);
  const address: AddressInfo = await server.listen(opts.listen);
  server.ready = true;
  log.info({ address: address.address, port: address.port }, `API listening on ${address.address}:${address.port}`);
  return { address, close: () => server.close() };
}
