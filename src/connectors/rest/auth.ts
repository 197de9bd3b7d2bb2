/**
 * Request authentication (spec.rest.auth). Static types turn secret keys into one header; dynamicToken
 * runs a login request, caches the token until shortly before it expires, and fetches a new one when the
 * API answers 401. Every secret value and token is registered with the session's scrubber.
 */
import type { RestAuth, RestDynamicToken } from '../../generated/types.js';
import type { Logger } from '../../log/logger.js';
import { type SecretData, SecretNotFoundError, type SecretResolver } from '../../secrets/resolver.js';
import { type HttpClient, statusText } from '../../transport/http-client.js';
import { excerpt, type SecretScrubber } from '../../transport/scrub.js';
import { ExtractError } from '../types.js';
import { parseJsonBody } from './json.js';
import { isRecord, readMarker } from './records.js';

/** Credentials as sent with one request; handed back on a 401 so that a refresh happens only once. */
export interface AuthState {
  headers: Record<string, string>;
  /** The dynamic token the headers carry. */
  token?: string;
}

export interface Authenticator {
  authorize(): Promise<AuthState>;
  /** After a 401 to a request sent with `sent`: true when fresh credentials are now available for one retry. */
  refresh(sent: AuthState): Promise<boolean>;
}

export interface AuthDeps {
  secrets: SecretResolver;
  namespace: string;
  http: HttpClient;
  scrubber: SecretScrubber;
  log: Logger;
}

const NO_AUTH: Authenticator = { authorize: async () => ({ headers: {} }), refresh: async () => false };

export async function createAuthenticator(auth: RestAuth | undefined, deps: AuthDeps): Promise<Authenticator> {
  if (!auth || auth.type === 'none') return NO_AUTH;
  if (!auth.secretRef) throw new ExtractError(`spec.rest.auth.secretRef is required for auth type ${auth.type}`);
  const secretName = auth.secretRef.name;
  const secret = await deps.secrets.get(deps.namespace, secretName);
  for (const value of Object.values(secret)) deps.scrubber.add(value);
  const key = (k: string): string => {
    const v = secret[k];
    if (v === undefined) throw new SecretNotFoundError(deps.namespace, secretName, k);
    return v;
  };
  switch (auth.type) {
    case 'basic': {
      const encoded = Buffer.from(`${key('username')}:${key('password')}`).toString('base64');
      deps.scrubber.add(encoded);
      return staticHeader('Authorization', `Basic ${encoded}`);
    }
    case 'bearer':
      return staticHeader('Authorization', `Bearer ${key('token')}`);
    case 'header': {
      if (!auth.headerName) throw new ExtractError('spec.rest.auth.headerName is required for auth type header');
      return staticHeader(auth.headerName, key('value'));
    }
    case 'dynamicToken':
      if (!auth.dynamicToken)
        throw new ExtractError('spec.rest.auth.dynamicToken is required for auth type dynamicToken');
      return new DynamicTokenAuth(auth.dynamicToken, secret, secretName, deps);
  }
}

function staticHeader(name: string, value: string): Authenticator {
  const state: AuthState = { headers: { [name]: value } };
  return { authorize: async () => state, refresh: async () => false };
}

/** Fills `${key}` placeholders from the secret, encoded for the body's content type. */
export function fillLoginBody(
  template: string,
  secret: SecretData,
  contentType: string,
  missing: (key: string) => never,
): string {
  return template.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    const value = secret[name] ?? missing(name);
    return contentType === 'application/json' ? JSON.stringify(value).slice(1, -1) : encodeURIComponent(value);
  });
}

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is fetched again; undefined: until a 401. */
  renewAt?: number;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder users write in spec.rest.auth.dynamicToken.header
const TOKEN_PLACEHOLDER = '${token}';
const DEFAULT_TOKEN_HEADER = { name: 'Authorization', value: `Bearer ${TOKEN_PLACEHOLDER}` };

/** Refresh this long before the announced expiry, or half the lifetime for short-lived tokens. */
const EXPIRY_MARGIN_MS = 60_000;

class DynamicTokenAuth implements Authenticator {
  private cached?: CachedToken;
  /** One login at a time: concurrent subqueries wait for the same token. */
  private pending?: Promise<CachedToken>;

  constructor(
    private readonly config: RestDynamicToken,
    private readonly secret: SecretData,
    private readonly secretName: string,
    private readonly deps: AuthDeps,
  ) {}

  async authorize(): Promise<AuthState> {
    const current =
      this.cached && (this.cached.renewAt === undefined || Date.now() < this.cached.renewAt) ? this.cached : undefined;
    const { token } = current ?? (await this.login());
    const header = this.config.header ?? DEFAULT_TOKEN_HEADER;
    return { headers: { [header.name]: header.value.split(TOKEN_PLACEHOLDER).join(token) }, token };
  }

  async refresh(sent: AuthState): Promise<boolean> {
    // Another request may have renewed the token already; then the retry just uses that one.
    if (this.cached && sent.token !== this.cached.token) return true;
    this.cached = undefined;
    await this.login();
    return true;
  }

  private login(): Promise<CachedToken> {
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<CachedToken> {
    const { config, deps } = this;
    const method = config.method ?? 'POST';
    const contentType = config.contentType ?? 'application/x-www-form-urlencoded';
    const missing = (k: string): never => {
      throw new SecretNotFoundError(deps.namespace, this.secretName, k);
    };
    const body = config.body === undefined ? undefined : fillLoginBody(config.body, this.secret, contentType, missing);
    let url: URL;
    try {
      url = new URL(config.loginUrl);
    } catch {
      throw new ExtractError('spec.rest.auth.dynamicToken.loginUrl is not a valid URL');
    }
    // A GET login cannot carry a body; a form body becomes its query string instead.
    if (method === 'GET' && body) {
      if (contentType === 'application/json') {
        throw new ExtractError('spec.rest.auth.dynamicToken: a GET login cannot send a JSON body; use POST');
      }
      url.search = [url.search.replace(/^\?/, ''), body].filter(Boolean).join('&');
    }
    const headers: Record<string, string> = { Accept: 'application/json', ...config.headers };
    if (method === 'POST' && body !== undefined) headers['Content-Type'] = contentType;
    const where = `login request ${method} ${url.origin}${url.pathname}`;
    const res = await deps.http.send({ method, url, headers, body: method === 'POST' ? body : undefined });
    if (res.status < 200 || res.status >= 300) {
      throw new ExtractError(`${where} failed: ${statusText(res.status)}${res.body ? `: ${excerpt(res.body)}` : ''}`);
    }
    const json = parseJsonBody(res.body, where);
    const raw = readMarker(json, config.tokenPath, 'spec.rest.auth.dynamicToken.tokenPath');
    if ((typeof raw !== 'string' && typeof raw !== 'number') || raw === '') {
      const keys = isRecord(json) ? ` (it has ${Object.keys(json).join(', ') || 'no keys'})` : '';
      throw new ExtractError(`${where}: the response has no token at "${config.tokenPath}"${keys}`);
    }
    const token = String(raw);
    deps.scrubber.add(token);
    const lifetime = config.expiresInPath
      ? Number(readMarker(json, config.expiresInPath, 'spec.rest.auth.dynamicToken.expiresInPath'))
      : Number.NaN;
    const renewAt =
      Number.isFinite(lifetime) && lifetime > 0
        ? Date.now() + lifetime * 1000 - Math.min(EXPIRY_MARGIN_MS, (lifetime * 1000) / 2)
        : undefined;
    deps.log.debug({ loginUrl: `${url.origin}${url.pathname}`, expiresInSeconds: lifetime || undefined }, 'REST login');
    this.cached = { token, renewAt };
    return this.cached;
  }
}
