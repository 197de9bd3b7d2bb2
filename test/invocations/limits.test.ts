/** Invocation limits refuse in HTTP-neutral words: `busy` (a task's maxConcurrency), `overloaded` (the process). */
import { describe, expect, it } from 'vitest';
import { InvocationLimits } from '../../src/invocations/limits.js';
import { Refusal } from '../../src/model/errors.js';

const refusalOf = (f: () => unknown): Refusal => {
  try {
    f();
  } catch (e) {
    if (e instanceof Refusal) return e;
    throw e;
  }
  throw new Error('expected a Refusal');
};

describe('InvocationLimits', () => {
  it('refuses a task at its limit as busy, retryable after a second', () => {
    const limits = new InvocationLimits(10);
    limits.acquire('iga/a', 1);
    const r = refusalOf(() => limits.acquire('iga/a', 1));
    expect(r).toMatchObject({ kind: 'busy', retryAfterSeconds: 1, retryable: true });
    expect(r.message).toContain('event.maxConcurrency');
    expect(() => limits.acquire('iga/b', 1)).not.toThrow();
  });

  it('refuses any task once the process is at its limit as overloaded, and takes slots back', () => {
    const limits = new InvocationLimits(2);
    const release = limits.acquire('iga/a', 5);
    limits.acquire('iga/b', 5);
    expect(refusalOf(() => limits.acquire('iga/c', 5))).toMatchObject({ kind: 'overloaded', retryAfterSeconds: 1 });
    release();
    release(); // twice is once
    expect(limits.inFlight).toBe(1);
    expect(() => limits.acquire('iga/c', 5)).not.toThrow();
  });
});
