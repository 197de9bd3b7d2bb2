/**
 * Everything one run (or one connection check) shares: the dispatcher with its TLS settings, the HTTP
 * client with retries, authentication, the API client with its call budget, and the scrubber that keeps
 * secret values out of messages. Closing the session cancels whatever is still in flight.
 */

import type { Dispatcher } from 'undici';
import type { RestConnector } from '../../generated/types.js';
import type { Logger } from '../../log/logger.js';
import type { SecretResolver } from '../../secrets/resolver.js';
import { DEFAULT_RETRY, HttpClient, type RetryOptions } from '../../transport/http-client.js';
import { SecretScrubber } from '../../transport/scrub.js';
import { openSessionScope, toExtractError } from '../kit/session-scope.js';
import type { ConnectionContext } from '../types.js';
import { ExtractError } from '../types.js';
import { mergeHeaders, RestApi } from './api.js';
import { type Authenticator, createAuthenticator } from './auth.js';
import { CallBudget } from './budget.js';
import { restBlock, timeoutMs } from './config.js';

/** Knobs for tests and embedders; production uses the defaults. */
export interface RestRuntimeOptions {
  retry?: Partial<RetryOptions>;
  /** Rows whose subqueries run at the same time (default 4). */
  subqueryConcurrency?: number;
}

/** What a session needs of its caller: the connector's context without a task (connectors/types.ts). */
export type SessionContext = ConnectionContext;

export interface SessionOptions extends RestRuntimeOptions {
  taskHeaders?: Record<string, string>;
  errorMarker?: string;
  safetyThreshold: number;
}

export interface RestSession {
  rest: RestConnector;
  baseUrl: URL;
  api: RestApi;
  budget: CallBudget;
  scrubber: SecretScrubber;
  close(): Promise<void>;
  /** Converts anything thrown during the session into an ExtractError without secret values. */
  toExtractError(e: unknown): unknown;
}

export async function openSession(ctx: SessionContext, options: SessionOptions): Promise<RestSession> {
  const scrubber = ctx.scrubber ?? new SecretScrubber();
  const rest = restBlock(ctx.connector);
  let baseUrl: URL;
  try {
    baseUrl = new URL(rest.baseUrl);
  } catch {
    throw new ExtractError(`spec.rest.baseUrl "${rest.baseUrl}" is not a valid URL`);
  }
  // Aborted by the run's signal or by close(), so that a consumer that stops early cancels subqueries in flight.
  const scope = await openSessionScope(rest, ctx, { scrubber, system: 'REST' });
  const { dispatcher, close } = scope;
  try {
    const { http, auth } = await authenticatedHttp(rest, ctx, {
      dispatcher,
      signal: scope.signal,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      scrubber,
    });
    const budget = new CallBudget(options.safetyThreshold);
    const api = new RestApi({
      http,
      auth,
      headers: mergeHeaders(rest.headers, options.taskHeaders),
      budget,
      errorMarker: options.errorMarker || undefined,
      log: ctx.log,
    });
    return {
      rest,
      baseUrl,
      api,
      budget,
      scrubber,
      close,
      toExtractError: (e) => toExtractError(e, scrubber, ctx.signal, 'REST'),
    };
  } catch (e) {
    await close();
    throw toExtractError(e, scrubber, ctx.signal, 'REST');
  }
}

/**
 * The HTTP client of a connector (its timeout, the given retry policy and signal, secret values scrubbed
 * from what it logs) and the authenticator that uses it. Scheduled runs and event calls differ only in the
 * signal and the retry policy they pass.
 */
export async function authenticatedHttp(
  rest: RestConnector,
  source: { secrets: SecretResolver; namespace: string; log: Logger },
  options: { dispatcher: Dispatcher; signal: AbortSignal; retry: RetryOptions; scrubber: SecretScrubber },
): Promise<{ http: HttpClient; auth: Authenticator }> {
  const { scrubber } = options;
  const http = new HttpClient({
    dispatcher: options.dispatcher,
    timeoutMs: timeoutMs(rest),
    signal: options.signal,
    retry: options.retry,
    log: source.log,
    scrub: (t) => scrubber.scrub(t),
    origins: connectorOrigins(rest),
  });
  const auth = await createAuthenticator(rest.auth, {
    secrets: source.secrets,
    namespace: source.namespace,
    http,
    scrubber,
    log: source.log,
  });
  return { http, auth };
}

/** The origins the connector's requests may go to: its base URL's and its login URL's. */
function connectorOrigins(rest: RestConnector): Set<string> {
  const origins = new Set<string>();
  for (const url of [rest.baseUrl, rest.auth?.type === 'dynamicToken' ? rest.auth.dynamicToken?.loginUrl : undefined]) {
    if (url === undefined) continue;
    try {
      origins.add(new URL(url).origin);
    } catch {
      // An invalid URL fails with its own message where it is used.
    }
  }
  return origins;
}
