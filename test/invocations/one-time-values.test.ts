/**
 * A first answer that holds a value given once (a generated first-login password) reaches its caller, but is
 * neither stored nor replayed: a repeat with the same Idempotency-Key, finished or still running, in the state
 * directory or in a real Redis, gets the replay variant, and the stored bytes never hold the value.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { type Idempotency, IdempotencyStore, type StoredResult } from '../../src/state/idempotency.js';
import { connectRedis } from '../../src/state/redis/redis-client.js';
import { RedisIdempotency } from '../../src/state/redis/redis-idempotency.js';
import { type RedisPeer, startRedis } from '../peers/redis.js';

const SECRET = 'Gen3rated!pa55-77x';
const FIRST: StoredResult = {
  status: 200,
  body: { state: 'Completed', response: { id: 'u1', password: SECRET } },
  replay: { state: 'Completed', response: { id: 'u1', passwordOmitted: 'given only in the first answer' } },
};
const call = (key: string) => ({
  task: 'iga/entra-users',
  key,
  fingerprint: { activity: 'a', input: 'i', data: 'd' },
  waitMs: 5_000,
});

let redis: RedisPeer;
let client: Awaited<ReturnType<typeof connectRedis>>;
let dir: string;
const stores: Array<{ name: string; open: () => Promise<Idempotency>; raw: () => Promise<string> }> = [];

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'provisio-once-'));
  client = await connectRedis(redis.url, silentLogger);
  stores.push(
    {
      name: 'state directory',
      open: async () => new IdempotencyStore(join(dir, 'state.db'), 60_000),
      raw: async () =>
        readdirSync(dir)
          .map((f) => readFileSync(join(dir, f)).toString('latin1'))
          .join(''),
    },
    {
      name: 'Redis',
      open: async () => new RedisIdempotency(client, { ttlMs: 60_000, log: silentLogger }),
      raw: async () => {
        const keys = await client.keys('*');
        const values = await Promise.all(keys.map((k) => client.get(k).catch(() => '')));
        return values.join('');
      },
    },
  );
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['state directory', 'Redis'])('a one-time value, with the idempotency store in the %s', (name) => {
  it('goes to the first caller only; repeats, finished or in flight, get the replay variant', async () => {
    const store = stores.find((s) => s.name === name)!;
    const idem = await store.open();
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let calls = 0;
    const work = async () => {
      calls++;
      await gate;
      return FIRST;
    };
    const first = idem.once(call(`k-${name}`), work);
    // The repeat arrives while the first is running (same process): it waits, and gets the replay variant.
    const concurrent = idem.once(call(`k-${name}`), work);
    finish();
    const [a, b] = await Promise.all([first, concurrent]);
    expect(a).toEqual({ status: 200, body: FIRST.body, replayed: false });
    expect(b).toEqual({ status: 200, body: FIRST.replay, replayed: true });
    const later = await idem.once(call(`k-${name}`), work);
    expect(later).toEqual({ status: 200, body: FIRST.replay, replayed: true });
    expect(calls).toBe(1);
    expect(await store.raw()).not.toContain(SECRET);
  });
});
