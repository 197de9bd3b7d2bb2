/**
 * Keeps secret values out of error messages, logs, and what upstreams answered. Upstream bodies (error or
 * success), JSON parse errors and URLs can echo what we sent (a token, a password in a login body), so every
 * message, answer and record that leaves the connector is passed through the scrubber of its session, which knows
 * every secret value in play (secret keys, the Basic value, tokens obtained at run time).
 */
export const REDACTED = '[redacted]';

/** Values shorter than this are not scrubbed: replacing "a" or "42" everywhere would garble messages. */
const MIN_LENGTH = 4;

export class SecretScrubber {
  private readonly values = new Set<string>();
  private sorted: string[] = [];

  /** Registers a secret value together with the encodings it may appear in (URL, JSON, base64). */
  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_LENGTH) return;
    const forms = [
      value,
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice(2),
      JSON.stringify(value).slice(1, -1),
    ];
    for (const form of forms) this.values.add(form);
    // Longest first, so that a value containing another one is replaced as a whole.
    this.sorted = [...this.values].sort((a, b) => b.length - a.length);
  }

  /** Whether any secret value is registered (nothing to scrub otherwise). */
  get empty(): boolean {
    return this.sorted.length === 0;
  }

  /** A JSON value with every secret value scrubbed from its strings (see scrubValue). */
  scrubValue<T>(value: T): T {
    return this.sorted.length === 0 ? value : (scrubValue(value, (t) => this.scrub(t)) as T);
  }

  scrub(text: string): string {
    let out = text;
    for (const value of this.sorted) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  }
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
