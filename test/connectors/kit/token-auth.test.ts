/** connectors/kit/auth TokenAuth: the token cache, renewal before expiry, one shared login, one refresh per 401. */
import { describe, expect, it } from 'vitest';
import { type IssuedToken, NO_AUTH, staticHeader, TokenAuth } from '../../../src/connectors/kit/auth/index.js';

function setup(lifetimes: Array<number | undefined> = []) {
  let clock = 1_000_000;
  const logins: string[] = [];
  const gates: Array<() => void> = [];
  let gated = false;
  const auth = new TokenAuth({
    login: async (): Promise<IssuedToken> => {
      const token = `t${logins.length + 1}`;
      logins.push(token);
      if (gated) await new Promise<void>((resolve) => gates.push(resolve));
      return { token, expiresInSeconds: lifetimes[logins.length - 1] };
    },
    headers: (token) => ({ Authorization: `Bearer ${token}` }),
    now: () => clock,
  });
  return {
    auth,
    logins,
    advance: (ms: number) => {
      clock += ms;
    },
    gate: () => {
      gated = true;
    },
    open: () => {
      gated = false;
      for (const g of gates.splice(0)) g();
    },
  };
}

describe('TokenAuth', () => {
  it('caches the token until 60 s before an announced expiry', async () => {
    const { auth, logins, advance } = setup([3600, 3600]);
    expect(await auth.authorize()).toEqual({ headers: { Authorization: 'Bearer t1' }, token: 't1' });
    advance(3_539_999);
    expect((await auth.authorize()).token).toBe('t1');
    advance(1);
    expect((await auth.authorize()).token).toBe('t2');
    expect(logins).toEqual(['t1', 't2']);
  });

  it('a short-lived token is renewed after half its lifetime; no lifetime: kept until a 401', async () => {
    const short = setup([10]);
    await short.auth.authorize();
    short.advance(4_999);
    expect((await short.auth.authorize()).token).toBe('t1');
    short.advance(1);
    expect((await short.auth.authorize()).token).toBe('t2');
    const forever = setup([undefined, Number.NaN]);
    await forever.auth.authorize();
    forever.advance(365 * 24 * 3600 * 1000);
    expect((await forever.auth.authorize()).token).toBe('t1');
  });

  it('concurrent callers share one login', async () => {
    const { auth, logins, gate, open } = setup();
    gate();
    const waiting = Promise.all(Array.from({ length: 20 }, () => auth.authorize()));
    await Promise.resolve();
    open();
    expect(new Set((await waiting).map((s) => s.token))).toEqual(new Set(['t1']));
    expect(logins).toEqual(['t1']);
  });

  it('a 401 refreshes once; requests that were sent with the old token reuse the new one', async () => {
    const { auth, logins } = setup();
    const sent = await auth.authorize();
    expect(await auth.refresh(sent)).toBe(true);
    // A second request refused with the same old token: the token was renewed already, no second login.
    expect(await auth.refresh(sent)).toBe(true);
    expect((await auth.authorize()).token).toBe('t2');
    expect(logins).toEqual(['t1', 't2']);
  });

  it('clear() forgets the token: the next request logs in again', async () => {
    const { auth, logins } = setup();
    await auth.authorize();
    auth.clear();
    expect((await auth.authorize()).token).toBe('t2');
    expect(logins).toEqual(['t1', 't2']);
  });

  it('a failed login is not cached: the next request tries again', async () => {
    let calls = 0;
    const auth = new TokenAuth({
      login: async () => {
        calls++;
        if (calls === 1) throw new Error('login refused');
        return { token: 'ok' };
      },
      headers: (token) => ({ 'X-Token': token }),
    });
    await expect(auth.authorize()).rejects.toThrow('login refused');
    expect(await auth.authorize()).toEqual({ headers: { 'X-Token': 'ok' }, token: 'ok' });
  });

  it('static headers and no auth never refresh', async () => {
    const basic = staticHeader('Authorization', 'Basic abc');
    expect(await basic.authorize()).toEqual({ headers: { Authorization: 'Basic abc' } });
    expect(await basic.refresh(await basic.authorize())).toBe(false);
    expect(await NO_AUTH.authorize()).toEqual({ headers: {} });
    expect(await NO_AUTH.refresh({ headers: {} })).toBe(false);
  });
});
