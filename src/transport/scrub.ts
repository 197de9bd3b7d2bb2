/**
 * Keeps secret values out of error messages, logs, and what upstreams answered. Upstream bodies (error or
 * success), JSON parse errors and URLs can echo what we sent (a token, a password in a login body), so every
 * message, answer and record that leaves the connector is passed through the scrubber of its session, which knows
 * every secret value in play (secret keys, the Basic value, tokens obtained at run time).
 */
export const REDACTED = '[redacted]';

/** Values shorter than this are not scrubbed: replacing "a" or "42" everywhere would garble messages. */
const MIN_LENGTH = 4;

/**
 * Secret keys whose value names an account rather than proving it (a Basic user name, an OAuth client id, a
 * bind DN): scrubbed from messages like any other, but not from data, where the same name is often a real value
 * (the service account is also a user of the directory it reads).
 */
const IDENTIFIER_KEY = /^(user(_?name)?|login|client_?id|bind_?dn|tenant(_?id)?|account(_?name)?|principal)$/i;

export class SecretScrubber {
  private readonly values = new Set<string>();
  private readonly credentials = new Set<string>();
  private sorted: string[] = [];
  private sortedCredentials: string[] = [];
  /** Any credential form: one test per string of a record, the replacement only for the rare hit. */
  private credentialPattern?: RegExp;

  /**
   * Registers a secret value together with the encodings it may appear in (URL, JSON, base64). An `identifier`
   * (a user name) is scrubbed from messages only; a credential from messages and from data (scrubValue).
   */
  add(value: string | undefined, kind: 'credential' | 'identifier' = 'credential'): void {
    if (value === undefined || value.length < MIN_LENGTH) return;
    const forms = [
      value,
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice(2),
      JSON.stringify(value).slice(1, -1),
    ];
    for (const form of forms) {
      this.values.add(form);
      if (kind === 'credential') this.credentials.add(form);
    }
    // Longest first, so that a value containing another one is replaced as a whole.
    this.sorted = [...this.values].sort((a, b) => b.length - a.length);
    this.sortedCredentials = [...this.credentials].sort((a, b) => b.length - a.length);
    this.credentialPattern = this.sortedCredentials.length
      ? new RegExp(this.sortedCredentials.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))
      : undefined;
  }

  /**
   * Registers every value of a secret, by its key: identifiers (username, client_id, ...) as such, the rest as
   * credentials; with a username and a password, their Basic value too.
   */
  addSecretData(secret: Readonly<Record<string, string>>): void {
    for (const [key, value] of Object.entries(secret)) {
      this.add(value, IDENTIFIER_KEY.test(key) ? 'identifier' : 'credential');
    }
    if (secret.username !== undefined && secret.password !== undefined) {
      this.add(Buffer.from(`${secret.username}:${secret.password}`).toString('base64'));
    }
  }

  /** Whether any credential is registered (nothing to scrub from data otherwise). */
  get empty(): boolean {
    return this.sortedCredentials.length === 0;
  }

  /** A JSON value with every credential scrubbed from its strings (see scrubValue); identifiers stay. */
  scrubValue<T>(value: T): T {
    const pattern = this.credentialPattern;
    if (!pattern) return value;
    return scrubValue(value, (t) => (pattern.test(t) ? replaceAll(t, this.sortedCredentials) : t)) as T;
  }

  scrub(text: string): string {
    return replaceAll(text, this.sorted);
  }
}

function replaceAll(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
  return out;
}

/**
 * A JSON value with every string (and object key) scrubbed, its structure kept: an upstream that echoes a
 * credential in a successful answer or an extracted record must not hand it on to callers, artifacts or cards.
 * Values without a secret in them are returned as they are (no copy).
 */
export function scrubValue(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const s = scrubValue(v, scrub);
      if (s === v) return;
      out ??= [...value];
      out[i] = s;
    });
    return out ?? value;
  }
  if (value && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const key = scrub(k);
      const s = scrubValue(v, scrub);
      if (s === v && key === k) continue;
      out ??= { ...(value as Record<string, unknown>) };
      if (key !== k) delete out[k];
      out[key] = s;
    }
    return out ?? value;
  }
  return value;
}

/** Shortens upstream text for messages: the first `max` characters, whitespace collapsed. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
