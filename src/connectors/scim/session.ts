/**
 * What one run (or one connection check) shares: the TLS dispatcher, the HTTP client with retries (Retry-After
 * honoured on 429 and 503), the static Basic or Bearer header, the call counter, and the scrubber that keeps
 * secret values out of messages. Closing the session cancels whatever is still in flight.
 */
import type { ScimConnector } from '../../generated/types.js';
import { secretNotFound } from '../../secrets/resolver.js';
import { DEFAULT_RETRY, HttpClient, type RetryOptions } from '../../transport/http-client.js';
import { SecretScrubber } from '../../transport/scrub.js';
import { type Authenticator, staticHeader } from '../kit/auth/index.js';
import { openSessionScope, toExtractError } from '../kit/session-scope.js';
import type { ConnectionContext } from '../types.js';
import { ScimApi } from './api.js';
import { scimBaseUrl, scimBlock, TIMEOUT_MS } from './config.js';

/** Knobs for tests and embedders; production uses the defaults. */
export interface ScimRuntimeOptions {
  retry?: Partial<RetryOptions>;
}

/** What a session needs of its caller: the connector's context without a task (connectors/types.ts). */
export type SessionContext = ConnectionContext;

export interface ScimSession {
  scim: ScimConnector;
  baseUrl: URL;
  api: ScimApi;
  /** Removes the session's secret values from a text. */
  scrub(text: string): string;
  close(): Promise<void>;
  /** Converts anything thrown during the session into an ExtractError without secret values. */
  toExtractError(e: unknown): unknown;
}

export async function openScimSession(ctx: SessionContext, options: ScimRuntimeOptions = {}): Promise<ScimSession> {
  const scrubber = ctx.scrubber ?? new SecretScrubber();
  const scim = scimBlock(ctx.connector);
  const baseUrl = scimBaseUrl(scim);
  const scope = await openSessionScope(scim, ctx, { scrubber, system: 'SCIM' });
  const { dispatcher, close } = scope;
  try {
    const http = new HttpClient({
      dispatcher,
      timeoutMs: TIMEOUT_MS,
      timeoutField: 'the SCIM request timeout',
      caField: 'spec.scim.tls.caSecretRef',
      retryMessage: 'retrying SCIM request',
      signal: scope.signal,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      log: ctx.log,
      scrub: (t) => scrubber.scrub(t),
      origins: new Set([baseUrl.origin]),
    });
    const auth = await scimAuth(scim, ctx, scrubber);
    const api = new ScimApi({ http, auth, log: ctx.log, scrub: (t) => scrubber.scrub(t), basePath: baseUrl.pathname });
    return {
      scim,
      baseUrl,
      api,
      scrub: (t) => scrubber.scrub(t),
      close,
      toExtractError: (e) => toExtractError(e, scrubber, ctx.signal, 'SCIM'),
    };
  } catch (e) {
    await close();
    throw toExtractError(e, scrubber, ctx.signal, 'SCIM');
  }
}

/** spec.scim.auth: basic (keys username, password) or bearer (key token), every value registered with the scrubber. */
async function scimAuth(scim: ScimConnector, ctx: SessionContext, scrubber: SecretScrubber): Promise<Authenticator> {
  const name = scim.auth.secretRef.name;
  const secret = await ctx.secrets.get(ctx.namespace, name);
  scrubber.addSecretData(secret);
  const key = (k: string): string => {
    const v = secret[k];
    if (v === undefined) throw secretNotFound(ctx.secrets, ctx.namespace, name, k);
    return v;
  };
  if (scim.auth.type === 'bearer') return staticHeader('Authorization', `Bearer ${key('token')}`);
  const encoded = Buffer.from(`${key('username')}:${key('password')}`).toString('base64');
  scrubber.add(encoded);
  return staticHeader('Authorization', `Basic ${encoded}`);
}
