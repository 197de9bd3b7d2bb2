/**
 * SecretScrubber on data (ADR 0007): credentials are replaced in every string and key of a JSON value, which
 * keeps its structure; values without one come back as the same object; identifiers (user names, client ids)
 * are scrubbed from messages only. Secrets with regular-expression characters are matched literally.
 */
import { describe, expect, it } from 'vitest';
import { SecretScrubber } from '../../src/transport/scrub.js';

const PASSWORD = 'p@ss.w*rd(1)|$';
const scrubber = new SecretScrubber();
scrubber.addSecretData({ username: 'svc-reader', password: PASSWORD, client_id: 'provisio-app' });
const BASIC = Buffer.from(`svc-reader:${PASSWORD}`).toString('base64');

describe('SecretScrubber.scrubValue', () => {
  it('replaces credentials in strings and keys, keeping the JSON structure', () => {
    const value = {
      id: 7,
      owner: 'svc-reader',
      app: 'provisio-app',
      debug: { auth: `Basic ${BASIC}`, [`k ${PASSWORD}`]: [PASSWORD, encodeURIComponent(PASSWORD), null, true] },
    };
    expect(scrubber.scrubValue(value)).toEqual({
      id: 7,
      owner: 'svc-reader',
      app: 'provisio-app',
      debug: { auth: 'Basic [redacted]', 'k [redacted]': ['[redacted]', '[redacted]', null, true] },
    });
    expect(value.debug.auth).toBe(`Basic ${BASIC}`); // the input is not changed
  });

  it('returns the same object when there is nothing to scrub, and matches regex characters literally', () => {
    const clean = { a: ['p@ss', 'w*rd', 'p@ssXw*rd(1)|$'], b: { c: 'x' } };
    expect(scrubber.scrubValue(clean)).toBe(clean);
  });

  it('still scrubs identifiers from messages', () => {
    expect(scrubber.scrub('login as svc-reader with provisio-app failed')).toBe(
      'login as [redacted] with [redacted] failed',
    );
  });
});
