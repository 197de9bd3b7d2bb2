/**
 * Idempotency-Key results in Redis, shared by every replica: a workflow engine's retry may reach another
 * pod, and must still get the first result and never call the upstream twice.
 *
 * The first caller claims the key with SET NX (a "pending" marker that expires after `pendingMs`, so a replica
 * that dies mid-call does not block the key forever); it stores the result with the TTL when done. A repeat
 * that finds the marker waits for the result. A refusal before any work (a full limit, a suspended task)
 * removes the marker, so the retry can go through.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Idempotency, StoredResult } from '../idempotency.js';
import { KEY_PREFIX } from './redis-client.js';

const PENDING = 'pending:';
// Delete the marker only if it is still ours (it may have expired and been claimed by another caller).
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface RedisIdempotencyOptions {
  ttlMs: number;
  /** Longest a call may hold a key before another caller may take over (above the longest event timeout). */
  pendingMs?: number;
  /** How often a waiting repeat checks for the result. */
  pollMs?: number;
}

export class RedisIdempotency implements Idempotency {
  private readonly inFlight = new Map<string, Promise<StoredResult>>();
  private readonly pendingMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisIdempotencyOptions,
  ) {
    this.pendingMs = opts.pendingMs ?? 10 * 60_000;
    this.pollMs = opts.pollMs ?? 50;
  }

  async once(
    task: string,
    key: string,
    work: () => Promise<StoredResult>,
  ): Promise<StoredResult & { replayed: boolean }> {
    const id = `${KEY_PREFIX}idempotency:${task}:${key}`;
    const local = this.inFlight.get(id);
    if (local) return { ...(await local), replayed: true };
    for (;;) {
      const marker = `${PENDING}${randomUUID()}`;
      const claimed = await this.redis.set(id, marker, 'PX', this.pendingMs, 'NX');
      if (claimed === 'OK') return { ...(await this.run(id, marker, work)), replayed: false };
      const stored = await this.waitForResult(id);
      if (stored) return { ...stored, replayed: true };
      // The marker vanished without a result (a refusal, or its owner died): try to claim it again.
    }
  }

  private async run(id: string, marker: string, work: () => Promise<StoredResult>): Promise<StoredResult> {
    const promise = work();
    this.inFlight.set(id, promise);
    try {
      const result = await promise;
      await this.redis.set(id, JSON.stringify(result), 'PX', this.opts.ttlMs);
      return result;
    } catch (e) {
      await this.redis.eval(RELEASE, 1, id, marker).catch(() => {});
      throw e;
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** The stored result once there is one; undefined when the key is free again. */
  private async waitForResult(id: string): Promise<StoredResult | undefined> {
    for (;;) {
      const value = await this.redis.get(id);
      if (value === null) return undefined;
      if (!value.startsWith(PENDING)) return JSON.parse(value) as StoredResult;
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  close(): void {
    // The connection belongs to the runtime, which closes it.
  }
}
