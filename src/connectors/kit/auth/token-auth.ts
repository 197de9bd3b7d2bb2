/**
 * Token auth: a login hands out a token, the token goes with every request until shortly before it expires,
 * and a 401 fetches a new one once. Concurrent callers share one login (subqueries, parallel event calls).
 * What a login is belongs to the connector type: the REST dynamicToken request, m42's API token exchanged for an
 * access token, an MSAL client-credentials grant; each plugs in as `login`. The token lives as long as this
 * object: a connector type drops it with the session that holds it (ConnectorType.evictSessions).
 */
import type { Authenticator, AuthState } from './authenticator.js';

export interface IssuedToken {
  token: string;
  /** Lifetime the issuer announced, in seconds; absent (or not a positive number): valid until a 401. */
  expiresInSeconds?: number;
}

export interface TokenAuthOptions {
  /**
   * Fetches a new token. Shared by every caller waiting at that moment, so it must not be bound to any one
   * caller's signal: each caller stops waiting on its own deadline instead.
   */
  login: () => Promise<IssuedToken>;
  /** The headers that carry a token (`Authorization: Bearer <token>`, or a header the connector names). */
  headers: (token: string) => Record<string, string>;
  /** Clock, for tests. */
  now?: () => number;
}

/** Renew this long before the announced expiry, or after half the lifetime for short-lived tokens. */
export const EXPIRY_MARGIN_MS = 60_000;

interface CachedToken {
  token: string;
  headers: Record<string, string>;
  /** Epoch ms after which the token is fetched again; undefined: until a 401. */
  renewAt?: number;
}

export class TokenAuth implements Authenticator {
  private cached?: CachedToken;
  /** The login in progress, if any: concurrent callers wait for the same token. */
  private pending?: Promise<CachedToken>;
  private readonly now: () => number;

  constructor(private readonly options: TokenAuthOptions) {
    this.now = options.now ?? Date.now;
  }

  async authorize(): Promise<AuthState> {
    const cached = this.cached;
    const current = cached && (cached.renewAt === undefined || this.now() < cached.renewAt) ? cached : undefined;
    const { token, headers } = current ?? (await this.login());
    return { headers, token };
  }

  async refresh(sent: AuthState): Promise<boolean> {
    // Another request may have renewed the token already; then the retry just uses that one.
    if (this.cached && sent.token !== this.cached.token) return true;
    this.cached = undefined;
    await this.login();
    return true;
  }

  /** Forgets the cached token; the next authorize() logs in again. */
  clear(): void {
    this.cached = undefined;
  }

  private login(): Promise<CachedToken> {
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<CachedToken> {
    const { token, expiresInSeconds: lifetime } = await this.options.login();
    const renewAt =
      lifetime !== undefined && Number.isFinite(lifetime) && lifetime > 0
        ? this.now() + lifetime * 1000 - Math.min(EXPIRY_MARGIN_MS, (lifetime * 1000) / 2)
        : undefined;
    this.cached = { token, headers: this.options.headers(token), renewAt };
    return this.cached;
  }
}
