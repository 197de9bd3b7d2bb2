/**
 * Keeps secret values out of error messages and logs. Upstream error bodies, JSON parse errors and
 * URLs can echo what we sent (a token, a password in a login body), so every message that leaves the
 * connector is passed through the scrubber of its session, which knows every secret value in play.
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

  scrub(text: string): string {
    let out = text;
    for (const value of this.sorted) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  }
}

/** Shortens upstream text for messages: the first `max` characters, whitespace collapsed. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
