/**
 * Request authentication (spec.rest.auth): the REST connector's config on top of connectors/kit/auth. Static
 * types turn secret keys into one header; dynamicToken is the kit's TokenAuth (cached until shortly before
 * it expires, renewed once on a 401, one login shared by concurrent callers) with the login request written
 * in spec.rest.auth.dynamicToken. Every secret value and token is registered with the session's scrubber.
 */
import type { RestAuth, RestDynamicToken } from '../../generated/types.js';
import type { Logger } from '../../log/logger.js';
import { type SecretData, type SecretResolver, secretNotFound } from '../../secrets/resolver.js';
import { type HttpClient, statusText } from '../../transport/http-client.js';
import { excerpt, type SecretScrubber } from '../../transport/scrub.js';
import { type Authenticator, type IssuedToken, NO_AUTH, staticHeader, TokenAuth } from '../kit/auth/index.js';
import { parseJsonBody } from '../kit/json-body.js';
import { ExtractError } from '../types.js';
import { isRecord, readMarker } from './records.js';

export interface AuthDeps {
  secrets: SecretResolver;
  namespace: string;
  http: HttpClient;
  scrubber: SecretScrubber;
  log: Logger;
}

export async function createAuthenticator(auth: RestAuth | undefined, deps: AuthDeps): Promise<Authenticator> {
  if (!auth || auth.type === 'none') return NO_AUTH;
  if (!auth.secretRef) throw new ExtractError(`spec.rest.auth.secretRef is required for auth type ${auth.type}`);
  const secretName = auth.secretRef.name;
  const secret = await deps.secrets.get(deps.namespace, secretName);
  deps.scrubber.addSecretData(secret);
  const key = (k: string): string => {
    const v = secret[k];
    if (v === undefined) throw secretNotFound(deps.secrets, deps.namespace, secretName, k);
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
      return dynamicTokenAuth(auth.dynamicToken, secret, secretName, deps);
  }
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

// biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder users write in spec.rest.auth.dynamicToken.header
const TOKEN_PLACEHOLDER = '${token}';
const DEFAULT_TOKEN_HEADER = { name: 'Authorization', value: `Bearer ${TOKEN_PLACEHOLDER}` };

/** dynamicToken: the kit's token auth (cache, renewal, one shared login) with the login spec.rest.auth describes. */
function dynamicTokenAuth(config: RestDynamicToken, secret: SecretData, secretName: string, deps: AuthDeps): TokenAuth {
  const header = config.header ?? DEFAULT_TOKEN_HEADER;
  return new TokenAuth({
    login: () => restLogin(config, secret, secretName, deps),
    headers: (token) => ({ [header.name]: header.value.split(TOKEN_PLACEHOLDER).join(token) }),
  });
}

/** The login request of spec.rest.auth.dynamicToken, and the token (and lifetime) read from its answer. */
async function restLogin(
  config: RestDynamicToken,
  secret: SecretData,
  secretName: string,
  deps: AuthDeps,
): Promise<IssuedToken> {
  const method = config.method ?? 'POST';
  const contentType = config.contentType ?? 'application/x-www-form-urlencoded';
  const missing = (k: string): never => {
    throw secretNotFound(deps.secrets, deps.namespace, secretName, k);
  };
  const body = config.body === undefined ? undefined : fillLoginBody(config.body, secret, contentType, missing);
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
  deps.log.debug({ loginUrl: `${url.origin}${url.pathname}`, expiresInSeconds: lifetime || undefined }, 'REST login');
  return { token, expiresInSeconds: lifetime };
}

export type { Authenticator, AuthState } from '../kit/auth/index.js';
