/**
 * What one run (or connection check) shares: the connector's credential (leased from the cache, so its token
 * outlives the run), an HTTP client over the credential's TLS dispatcher bound to the run's signal, with retries
 * that honour Retry-After on 429, 503 and 504 (a throttle the run can wait out never fails it), and the Graph
 * API with its call and throttle counts. Closing the session cancels whatever is still in flight.
 */
import type { MsgraphConnector } from '../../generated/types.js';
import { DEFAULT_RETRY, HttpClient, type RetryOptions } from '../../transport/http-client.js';
import { toExtractError } from '../kit/session-scope.js';
import type { ConnectionContext } from '../types.js';
import { GraphApi } from './api.js';
import { graphBlock, graphHost, TIMEOUT_MS } from './config.js';
import { type Credential, leaseCredential } from './credentials.js';

/** Knobs for tests and embedders; production uses the defaults. */
export interface GraphRuntimeOptions {
  retry?: Partial<RetryOptions>;
  /** Requests in flight at once for per-group and per-record reads (default 4). */
  concurrency?: number;
}

/** Graph throttles in bursts: more attempts than other sources, and Retry-After honoured up to five minutes. */
export const GRAPH_RETRY: RetryOptions = { ...DEFAULT_RETRY, maxAttempts: 12, maxRetryAfterMs: 300_000 };

export interface GraphSession {
  graph: MsgraphConnector;
  host: URL;
  api: GraphApi;
  credential: Credential;
  scrub(text: string): string;
  close(): Promise<void>;
  toExtractError(e: unknown): unknown;
}

export async function openGraphSession(
  ctx: ConnectionContext,
  options: GraphRuntimeOptions & { headers?: Record<string, string> } = {},
): Promise<GraphSession> {
  const graph = graphBlock(ctx.connector);
  const host = graphHost(graph);
  const retry = { ...GRAPH_RETRY, ...options.retry };
  const lease = await leaseCredential({ ...ctx, retry });
  const credential = lease.session;
  const scrub = (t: string): string => credential.scrubber.scrub(t);
  const controller = new AbortController();
  const forward = (): void => controller.abort(ctx.signal.reason);
  if (ctx.signal.aborted) forward();
  ctx.signal.addEventListener('abort', forward, { once: true });
  let api: GraphApi | undefined;
  const http = new HttpClient({
    dispatcher: credential.dispatcher,
    timeoutMs: TIMEOUT_MS,
    timeoutField: 'the Graph request timeout',
    caField: 'spec.msgraph.tls.caSecretRef',
    retryMessage: 'retrying Graph request',
    signal: controller.signal,
    retry,
    log: ctx.log,
    scrub,
    origins: new Set([host.origin]),
    observeRetry: (event) => api?.noteRetry(event.status),
  });
  api = new GraphApi({ http, auth: credential.auth, log: ctx.log, scrub, headers: options.headers });
  return {
    graph,
    host,
    api,
    credential,
    scrub,
    async close() {
      ctx.signal.removeEventListener('abort', forward);
      if (!controller.signal.aborted) controller.abort(new Error('Graph session closed'));
      lease.release();
    },
    toExtractError: (e) => toExtractError(e, credential.scrubber, ctx.signal, 'Microsoft Graph'),
  };
}
