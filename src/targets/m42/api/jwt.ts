/**
 * When a login token of the home solution expires. The API documents no lifetime, so the JWT's own `exp`
 * claim decides when one is present; without it the token is used until the API answers 401.
 */

/** Seconds before `exp` at which a token is renewed, so that a request in flight does not outlive it. */
const EARLY_RENEWAL_MS = 30_000;

/** The instant (ms since the epoch) after which the token should no longer be sent; undefined: unknown. */
export function tokenExpiry(jwt: string): number | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 - EARLY_RENEWAL_MS : undefined;
  } catch {
    return undefined;
  }
}

/** The token of a login answer: the body's `token` ("Bearer eyJ…"), else the Authorization response header. */
export function tokenOf(body: unknown, header: string | undefined): string | undefined {
  const fromBody = (body as { token?: unknown } | null)?.token;
  const raw = typeof fromBody === 'string' && fromBody.trim() !== '' ? fromBody : header;
  const token = raw?.trim().replace(/^bearer\s+/i, '');
  return token ? token : undefined;
}
