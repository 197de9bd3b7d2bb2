/**
 * status.invocations when several replicas serve the event endpoint: each replica's counts are added to
 * totals in Redis (HINCRBY), and each writes the cluster-wide totals it reads back, so no replica's
 * status write overwrites another's count with a smaller one for long (the next flush brings the latest).
 */
import type { Redis } from 'ioredis';
import type { InvocationCounters, InvocationTotals } from '../invocation-counters.js';
import { KEY_PREFIX } from './redis-client.js';

export class RedisInvocationCounters implements InvocationCounters {
  constructor(private readonly redis: Redis) {}

  async add(task: string, delta: InvocationTotals, seed: InvocationTotals | undefined): Promise<InvocationTotals> {
    const key = `${KEY_PREFIX}invocations:${task}`;
    const tx = this.redis.multi();
    // Counts recorded before Redis was configured carry over: the first writer seeds the totals.
    if (seed) {
      tx.hsetnx(key, 'total', seed.total);
      tx.hsetnx(key, 'failed', seed.failed);
      if (seed.lastTime) tx.hsetnx(key, 'lastTime', seed.lastTime);
      if (seed.lastError) tx.hsetnx(key, 'lastError', seed.lastError);
    }
    tx.hincrby(key, 'total', delta.total);
    tx.hincrby(key, 'failed', delta.failed);
    if (delta.lastTime) tx.hset(key, 'lastTime', delta.lastTime);
    if (delta.lastError) tx.hset(key, 'lastError', delta.lastError);
    tx.hgetall(key);
    const results = await tx.exec();
    const last = results?.[results.length - 1];
    if (!last || last[0]) throw last?.[0] ?? new Error('Redis transaction was aborted');
    const h = last[1] as Record<string, string>;
    return {
      total: Number(h.total ?? 0),
      failed: Number(h.failed ?? 0),
      ...(h.lastTime ? { lastTime: h.lastTime } : {}),
      ...(h.lastError ? { lastError: h.lastError } : {}),
    };
  }
}
