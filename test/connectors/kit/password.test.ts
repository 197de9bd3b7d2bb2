/** The generated first-login password (kit/activity/password.ts) against Entra's complexity rule. */
import { describe, expect, it } from 'vitest';
import { GENERATED_LENGTH, generatePassword } from '../../../src/connectors/kit/activity/password.js';
import { complexEnough } from '../../peers/msgraph/user-writes.js';

describe('generatePassword', () => {
  it('always has all four character classes, its length, and no quote, backslash or space', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const p = generatePassword();
      expect(p).toHaveLength(GENERATED_LENGTH);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toMatch(/[^A-Za-z0-9]/);
      expect(p).not.toMatch(/["'`\\\s]/);
      expect(complexEnough(p)).toBe(true);
      seen.add(p);
    }
    expect(seen.size).toBe(2000);
  });

  it('puts the guaranteed characters anywhere, not always first', () => {
    const firstIsDigit = Array.from({ length: 500 }, () => /[0-9]/.test(generatePassword()[0])).filter(Boolean);
    expect(firstIsDigit.length).toBeGreaterThan(0);
    expect(firstIsDigit.length).toBeLessThan(500);
  });
});
