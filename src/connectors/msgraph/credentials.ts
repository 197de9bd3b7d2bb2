/**
 * The app registration's credential: MSAL's confidential client (client secret, or certificate with SHA-256
 * thumbprint and x5c) against `loginUrl` + tenant, with `knownAuthorities` set to that host so that MSAL never
 * asks Microsoft's instance discovery about it (sovereign clouds, a local authority in tests). MSAL's HTTP goes
 * through `system.networkClient` = the shared transport, so the connector's `tls.caSecretRef` is trusted for the
 * token endpoint as for Graph, and 429/503 with Retry-After on token calls are retried here (MSAL 7 does not).
 * One credential per connector lives in a session cache across runs: its token (and MSAL's token cache) is
 * reused until it is about to expire, a Graph 401 fetches a fresh one once, and a changed connector or secret
 * evicts it (ConnectorType.evictSessions).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import type { Dispatcher } from 'undici';
import type { MsgraphConnector } from '../../generated/types.js';
import type { Logger } from '../../log/logger.js';
import { ExtractError } from '../../model/errors.js';
import type { Connector } from '../../model/resources.js';
import { SecretNotFoundError, type SecretResolver } from '../../secrets/resolver.js';
import { DEFAULT_RETRY, HttpClient, type RetryOptions } from '../../transport/http-client.js';
import { SecretScrubber } from '../../transport/scrub.js';
import { createDispatcher } from '../../transport/tls.js';
import type { Authenticator, AuthState } from '../kit/auth/index.js';
import { TokenAuth } from '../kit/auth/index.js';
import { SessionCache } from '../kit/session-cache.js';
import { authorityUrl, graphBlock, graphHost, TIMEOUT_MS } from './config.js';
import { tokenError } from './token-errors.js';

export interface CredentialSource {
  connector: Connector;
  namespace: string;
  secrets: SecretResolver;
  log: Logger;
  retry?: Partial<RetryOptions>;
}

export interface Credential {
  graph: MsgraphConnector;
  /** The connector's TLS settings, shared by the token calls and the runs' Graph calls. */
  dispatcher: Dispatcher;
  auth: Authenticator;
  scrubber: SecretScrubber;
  /** Token requests sent (MSAL's cache answers the others). */
  readonly logins: number;
  close(): Promise<void>;
}

export async function openCredential(source: CredentialSource): Promise<Credential> {
  const graph = graphBlock(source.connector);
  const scrubber = new SecretScrubber();
  const keys = await credentialKeys(graph, source, scrubber);
  const dispatcher = await createDispatcher(graph, source.secrets, source.namespace);
  const controller = new AbortController();
  const authority = authorityUrl(graph);
  const http = new HttpClient({
    dispatcher,
    timeoutMs: TIMEOUT_MS,
    timeoutField: 'the token request timeout',
    caField: 'spec.msgraph.tls.caSecretRef',
    retryMessage: 'retrying token request',
    signal: controller.signal,
    retry: { ...DEFAULT_RETRY, ...source.retry },
    log: source.log,
    scrub: (t) => scrubber.scrub(t),
    origins: new Set([authority.origin]),
  });
  let transportError: unknown;
  // The last error answer of the authority: MSAL reports a failed metadata request without its body.
  let refusal: unknown;
  const send = async (
    method: 'GET' | 'POST',
    url: string,
    options?: { headers?: Record<string, string>; body?: string },
  ) => {
    try {
      const res = await http.send({ method, url: new URL(url), headers: options?.headers ?? {}, body: options?.body });
      transportError = undefined;
      const body = parseBody(res.body);
      // Only Entra's own error answers (AADSTS codes); MSAL's fallback requests after one must not hide it.
      if (res.status >= 400 && typeof (body as { error_description?: unknown }).error_description === 'string') {
        refusal ??= body;
      }
      return { status: res.status, headers: flatHeaders(res.headers), body: body as never };
    } catch (e) {
      transportError = e;
      throw e;
    }
  };
  const config: Configuration = {
    auth: {
      clientId: graph.clientId,
      authority: authority.href,
      knownAuthorities: [authority.host],
      ...keys,
    },
    system: {
      networkClient: {
        sendGetRequestAsync: (url, options) => send('GET', url, options),
        sendPostRequestAsync: (url, options) => send('POST', url, options),
      },
      loggerOptions: {
        piiLoggingEnabled: false,
        loggerCallback: (_level, message) => source.log.debug({ msal: scrubber.scrub(message) }, 'MSAL'),
      },
    },
  };
  const app = new ConfidentialClientApplication(config);
  const scopes = [`${graphHost(graph).origin}/.default`];
  let logins = 0;
  let fresh = false;
  const tokens = new TokenAuth({
    login: async () => {
      refusal = undefined;
      const skipCache = fresh;
      fresh = false;
      try {
        const result = await app.acquireTokenByClientCredential({ scopes, skipCache });
        if (!result?.accessToken)
          throw new ExtractError(`the token endpoint of ${authority.href} sent no access token`);
        logins++;
        scrubber.add(result.accessToken);
        const seconds = result.expiresOn ? Math.round((result.expiresOn.getTime() - Date.now()) / 1000) : undefined;
        return { token: result.accessToken, expiresInSeconds: seconds };
      } catch (e) {
        throw tokenError(e, { transportError, refusal }, graph, authority, scrubber);
      }
    },
    headers: (token) => ({ Authorization: `Bearer ${token}` }),
  });
  const auth: Authenticator = {
    authorize: () => tokens.authorize(),
    // After a 401 the token MSAL has cached is the refused one: the next login skips MSAL's cache.
    refresh: (sent: AuthState) => {
      fresh = true;
      return tokens.refresh(sent);
    },
  };
  return {
    graph,
    dispatcher,
    auth,
    scrubber,
    get logins() {
      return logins;
    },
    async close() {
      controller.abort(new Error('Microsoft Graph credential closed'));
      await dispatcher.destroy().catch(() => {});
    },
  };
}

/** The secret's keys for MSAL: clientSecret, or certificate + privateKey (thumbprint and x5c worked out here). */
async function credentialKeys(
  graph: MsgraphConnector,
  source: CredentialSource,
  scrubber: SecretScrubber,
): Promise<Pick<NonNullable<Configuration['auth']>, 'clientSecret' | 'clientCertificate'>> {
  const name = graph.auth.secretRef.name;
  const secret = await source.secrets.get(source.namespace, name);
  for (const value of Object.values(secret)) scrubber.add(value);
  const key = (k: string): string => {
    const v = secret[k];
    if (v === undefined) throw new SecretNotFoundError(source.namespace, name, k);
    return v;
  };
  if (graph.auth.type === 'secret') return { clientSecret: key('clientSecret') };
  const pem = key('certificate');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new ExtractError(`key "certificate" of secret "${name}" is not a PEM certificate`);
  }
  return {
    clientCertificate: {
      thumbprintSha256: createHash('sha256').update(cert.raw).digest('hex'),
      privateKey: key('privateKey'),
      x5c: pem,
    },
  };
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}

/** One credential per connector, shared by runs, connection checks and event calls. */
const credentials = new SessionCache<CredentialSource, Credential>(openCredential, (c) => c.close());

export const leaseCredential = (source: CredentialSource) => credentials.lease(source);
export const evictCredential = (namespace: string, name: string) => credentials.evict(namespace, name);
export const closeCredentials = () => credentials.closeAll();
