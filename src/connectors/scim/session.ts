/**
 * What one run (or one connection check) shares: the TLS dispatcher, the HTTP client with retries (Retry-After
 * honoured on 429 and 503), the static Basic or Bearer header, the call counter, and the scrubber that keeps
 * secret values out of messages. Closing the session cancels whatever is still in flight.
 */
import type { ScimConnector } from '../../generated/types.js';
import type { Logger } from '../../log/logger.js';
import type { Connector } from '../../model/resources.js';
import { SecretNotFoundError, type SecretResolver } from '../../secrets/resolver.js';
import { DEFAULT_RETRY, HttpClient, type RetryOptions } from '../../transport/http-client.js';
import { SecretScrubber } from '../../transport/scrub.js';
import { createDispatcher } from '../../transport/tls.js';
import { type Authenticator, staticHeader } from '../kit/auth/index.js';
import { ExtractError, ResyncRequired } from '../types.js';
import { ScimApi } from './api.js';
import { scimBaseUrl, scimBlock, TIMEOUT_MS } from './config.js';

/** Knobs for tests and embedders; production uses the defaults. */
export interface ScimRuntimeOptions {
  retry?: Partial<RetryOptions>;
}

export interface SessionContext {
  connector: Connector;
  namespace: string;
  secrets: SecretResolver;
  signal: AbortSignal;
  log: Logger;
}

export interface ScimSession {
  scim: ScimConnector;
  baseUrl: URL;
  api: ScimApi;
  close(): Promise<void>;
  /** Converts anything thrown during the session into an ExtractError without secret values. */
  toExtractError(e: unknown): unknown;
}

export async function openScimSession(ctx: SessionContext, options: ScimRuntimeOptions = {}): Promise<ScimSession> {
  const scrubber = new SecretScrubber();
  const scim = scimBlock(ctx.connector);
  const baseUrl = scimBaseUrl(scim);
  const controller = new AbortController();
  const forward = (): void => controller.abort(ctx.signal.reason);
  if (ctx.signal.aborted) forward();
  ctx.signal.addEventListener('abort', forward, { once: true });
  const dispatcher = await createDispatcher(scim, ctx.secrets, ctx.namespace).catch((e: unknown) => {
    ctx.signal.removeEventListener('abort', forward);
    throw toExtractError(e, scrubber, ctx.signal);
  });
  const close = async (): Promise<void> => {
    ctx.signal.removeEventListener('abort', forward);
    if (!controller.signal.aborted) controller.abort(new Error('SCIM session closed'));
    await dispatcher.destroy().catch(() => {});
  };
  try {
    const http = new HttpClient({
      dispatcher,
      timeoutMs: TIMEOUT_MS,
      timeoutField: 'the SCIM request timeout',
      caField: 'spec.scim.tls.caSecretRef',
      retryMessage: 'retrying SCIM request',
      signal: controller.signal,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      log: ctx.log,
      scrub: (t) => scrubber.scrub(t),
      origins: new Set([baseUrl.origin]),
    });
    const auth = await scimAuth(scim, ctx, scrubber);
    const api = new ScimApi({ http, auth, log: ctx.log, scrub: (t) => scrubber.scrub(t), basePath: baseUrl.pathname });
    return { scim, baseUrl, api, close, toExtractError: (e) => toExtractError(e, scrubber, ctx.signal) };
  } catch (e) {
    await close();
    throw toExtractError(e, scrubber, ctx.signal);
  }
}

/** spec.scim.auth: basic (keys username, password) or bearer (key token), every value registered with the scrubber. */
async function scimAuth(scim: ScimConnector, ctx: SessionContext, scrubber: SecretScrubber): Promise<Authenticator> {
  const name = scim.auth.secretRef.name;
  const secret = await ctx.secrets.get(ctx.namespace, name);
  for (const value of Object.values(secret)) scrubber.add(value);
  const key = (k: string): string => {
    const v = secret[k];
    if (v === undefined) throw new SecretNotFoundError(ctx.namespace, name, k);
    return v;
  };
  if (scim.auth.type === 'bearer') return staticHeader('Authorization', `Bearer ${key('token')}`);
  const encoded = Buffer.from(`${key('username')}:${key('password')}`).toString('base64');
  scrubber.add(encoded);
  return staticHeader('Authorization', `Basic ${encoded}`);
}

/** A stop request surfaces as the signal's reason; anything else as an ExtractError scrubbed of secret values. */
function toExtractError(e: unknown, scrubber: SecretScrubber, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (e instanceof ExtractError) {
    const message = scrubber.scrub(e.message);
    return message === e.message ? e : new ExtractError(message, e.status);
  }
  if (e instanceof SecretNotFoundError) return new ExtractError(e.message);
  if (e instanceof ResyncRequired) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new ExtractError(`SCIM extract failed: ${scrubber.scrub(text)}`);
}
