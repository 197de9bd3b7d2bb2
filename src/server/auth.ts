/**
 * Bearer-token authentication for the API: tokens from PROVISIO_API_TOKENS (comma-separated) or a
 * token file (one per line). Compared in constant time; callers are identified by a token id (a
 * short hash), never by the token itself, so logs can say who called without leaking it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

export class TokenAuth {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens
      .map((t) => t.trim())
      .filter(Boolean)
      .map(digest);
  }

  static fromEnvironment(tokenFile?: string, env: NodeJS.ProcessEnv = process.env): TokenAuth {
    const tokens = (env.PROVISIO_API_TOKENS ?? '').split(',');
    if (tokenFile) tokens.push(...readFileSync(tokenFile, 'utf8').split(/\r?\n/));
    return new TokenAuth(tokens);
  }

  get configured(): boolean {
    return this.digests.length > 0;
  }

  /** The caller's token id when the request carries a valid bearer token. */
  authenticate(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const presented = digest(m[1]);
    // Compare against every token so timing does not reveal which one (or whether any) matched.
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, presented) || ok;
    return ok ? `token-${presented.toString('hex').slice(0, 8)}` : undefined;
  }
}
