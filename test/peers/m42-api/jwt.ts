/**
 * The login tokens of the simulated REST API: HS256 JWTs signed with a key made at start, carrying `sub` (the
 * login), `iat`, `exp` and `gen`. The reference documents no lifetime; the simulator puts `exp` in every token
 * (`tokenTtlSeconds`, default 3600) so that a client reading `exp` can be tested, and refuses a token after it.
 * `revokeAll()` bumps the generation: every token issued before becomes invalid at once (a server restart or a
 * session purge, which is what makes a real client see a 401 before `exp`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenCheck = { ok: true; login: string } | { ok: false; reason: 'missing' | 'invalid' | 'expired' };

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export class TokenIssuer {
  private readonly key = randomBytes(32);
  private generation = 0;

  constructor(
    private readonly ttlSeconds: number,
    /** The simulator's clock in ms (tests can move it forward). */
    private readonly now: () => number,
  ) {}

  issue(login: string): string {
    const iat = Math.floor(this.now() / 1000);
    const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: login, iat, exp: iat + this.ttlSeconds, gen: this.generation })}`;
    return `${head}.${this.sign(head)}`;
  }

  /** Checks signature, generation and expiry of a bare token (no `Bearer `). */
  verify(token: string | undefined): TokenCheck {
    if (!token) return { ok: false, reason: 'missing' };
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid' };
    let claims: { sub?: unknown; exp?: unknown; gen?: unknown };
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (claims.gen !== this.generation || typeof claims.sub !== 'string') return { ok: false, reason: 'invalid' };
    if (typeof claims.exp !== 'number' || this.now() >= claims.exp * 1000) return { ok: false, reason: 'expired' };
    return { ok: true, login: claims.sub };
  }

  revokeAll(): void {
    this.generation++;
  }

  private sign(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }
}
