/**
 * oauth2-mock-server 8 as a real login server (client-credentials `POST /token`, form or JSON body),
 * in-process on a random port, plus what an API server in front of it needs to check the tokens:
 * `verify(token)` checks the RS256 signature against the server's JWKS, the expiry, and that the token
 * was issued by this peer and not revoked since. Every login is recorded.
 *
 *   const idp = await startOAuth2Peer({ clients: { app: 's3cret' } });
 *   api.auth = { type: 'verify', verify: (req) => idp.verifyAuthorization(req.headers.authorization) };
 */
import { createPublicKey, type JsonWebKey, randomUUID, verify as verifySignature } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';

export interface LoginRecord {
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** The token handed out, or undefined when the login was refused. */
  token?: string;
}

export interface OAuth2PeerOptions {
  /** client_id → client_secret; when set, other credentials get 401 invalid_client. */
  clients?: Record<string, string>;
}

export interface OAuth2Peer {
  /** Issuer URL, http://127.0.0.1:PORT. */
  url: string;
  tokenUrl: string;
  logins: LoginRecord[];
  /** Overrides expires_in in token responses (seconds); the JWT exp stays one hour. */
  expiresIn?: number;
  verify(token: string): boolean;
  /** verify() for an `Authorization: Bearer …` header value. */
  verifyAuthorization(header: string | string[] | undefined): boolean;
  revoke(token: string): void;
  /** Revokes every token issued so far (as a key rotation or an admin would). */
  revokeAll(): void;
  stop(): Promise<void>;
}

interface TokenRequestLike {
  body?: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}

export async function startOAuth2Peer(options: OAuth2PeerOptions = {}): Promise<OAuth2Peer> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(0, '127.0.0.1');
  const url = `http://127.0.0.1:${server.address().port}`;
  server.issuer.url = url;
  const issued = new Set<string>();
  const revoked = new Set<string>();

  const peer: OAuth2Peer = {
    url,
    tokenUrl: `${url}/token`,
    logins: [],
    verify(token) {
      if (!issued.has(token) || revoked.has(token)) return false;
      const [h, p, s] = token.split('.');
      if (!h || !p || !s) return false;
      const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid?: string; alg?: string };
      const jwk = server.issuer.keys.toJSON().find((k) => k.kid === header.kid);
      if (!jwk || header.alg !== 'RS256') return false;
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      if (!verifySignature('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) return false;
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { exp?: number; iss?: string };
      return payload.iss === url && typeof payload.exp === 'number' && payload.exp * 1000 > Date.now();
    },
    verifyAuthorization(value) {
      const text = Array.isArray(value) ? value[0] : value;
      const m = /^Bearer (\S+)$/.exec(text ?? '');
      return m ? peer.verify(m[1]) : false;
    },
    revoke(token) {
      revoked.add(token);
    },
    revokeAll() {
      for (const t of issued) revoked.add(t);
    },
    stop: () => server.stop(),
  };

  // Two logins within the same second would otherwise get byte-identical JWTs; a jti keeps them apart.
  server.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
    token.payload.jti = randomUUID();
  });
  server.service.on(
    'beforeResponse',
    (response: { statusCode: number; body: Record<string, unknown> | '' }, req: TokenRequestLike) => {
      const body = { ...(req.body ?? {}) };
      const record: LoginRecord = { body, headers: req.headers };
      peer.logins.push(record);
      const clients = options.clients;
      if (clients && clients[String(body.client_id)] !== body.client_secret) {
        response.statusCode = 401;
        response.body = { error: 'invalid_client', error_description: 'client authentication failed' };
        return;
      }
      if (typeof response.body === 'object') {
        const token = response.body.access_token;
        if (typeof token === 'string') {
          issued.add(token);
          record.token = token;
        }
        if (peer.expiresIn !== undefined) response.body.expires_in = peer.expiresIn;
      }
    },
  );
  return peer;
}
