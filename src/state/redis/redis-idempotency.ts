/**
 * Idempotency-Key results in Redis, shared by every replica (ADR 0007): a workflow engine's retry may reach
 * another pod, and must still get the first result and never call the upstream twice.
 *
 * - The first caller claims the key with SET NX: a pending marker (the attempt's id, its start time, the call's
 *   fingerprint) that lives as long as the key's TTL. While the call runs, its owner renews a heartbeat key with
 *   a short TTL; the result replaces the marker when done.
 * - A repeat that finds the marker waits while the heartbeat lives (at most `waitMs`, the task's timeout, then
 *   409 "still running"); once the heartbeat is gone (the owner was killed) it answers 409 "outcome unknown" at
 *   once, and keeps doing so within the TTL unless the caller sends `Idempotency-Replay: force`.
 * - Redis unreachable before the call: a 503 refusal with Retry-After, at once (a dedicated connection without
 *   an offline queue: commands fail instead of waiting for a reconnect), naming Redis by host:port. After the
 *   upstream answered: the answer still goes to the caller, with `notStored`.
 * - A refusal before any work (a full limit, a suspended task) removes the marker, so the retry can go through.
 */
import { randomUUID } from 'node:crypto';
import { once as onceEvent } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../../log/logger.js';
import { Refusal } from '../../model/errors.js';
import {
  assertSameCall,
  type CallFingerprint,
  firstAnswer,
  type Idempotency,
  type IdempotentCall,
  type IdempotentOutcome,
  interrupted,
  replayOf,
  type StoredResult,
  stillRunning,
} from '../idempotency.js';
import { KEY_PREFIX } from './redis-client.js';

// Delete the marker only if it is still ours (a forced retry may have taken it over).
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
// Store the result only over our own marker: never over a forced retry's.
const COMPLETE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return 0 end`;

export interface RedisIdempotencyOptions {
  ttlMs: number;
  /** Lifetime of an attempt's heartbeat; renewed at a third of it while the call runs. */
  heartbeatMs?: number;
  /** How often a waiting repeat checks for the result. */
  pollMs?: number;
  /** Longest wait for the connection to be ready before a call is refused (503). */
  readyMs?: number;
  log?: Logger;
}

type Entry =
  | { state: 'pending'; attempt: string; startedAt?: number; fingerprint?: CallFingerprint }
  | { state: 'done'; fingerprint?: CallFingerprint; result: StoredResult };

interface LocalAttempt {
  fingerprint: CallFingerprint;
  promise: Promise<StoredResult>;
}

export class RedisIdempotency implements Idempotency {
  private readonly inFlight = new Map<string, LocalAttempt>();
  private readonly redis: Redis;
  private readonly where: string;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;

  constructor(
    shared: Redis,
    private readonly opts: RedisIdempotencyOptions,
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 3_000;
    this.pollMs = opts.pollMs ?? 50;
    this.where = `${shared.options.host ?? 'localhost'}:${shared.options.port ?? 6379}`;
    // Its own connection: the shared one queues commands while reconnecting (a caller would hang for seconds);
    // this one fails them at once, so a caller is told to come back (503) instead of waiting.
    this.redis = shared.duplicate({
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      commandTimeout: 1_000,
      retryStrategy: (times: number) => Math.min(times * 100, 1_000),
    });
    let down = false;
    this.redis.on('error', (e: Error) => {
      if (!down)
        opts.log?.warn({ redis: this.where, err: e.message }, `idempotency store: Redis at ${this.where} failed`);
      down = true;
    });
    this.redis.on('ready', () => {
      down = false;
    });
  }

  async once(call: IdempotentCall, work: () => Promise<StoredResult>): Promise<IdempotentOutcome> {
    const id = `${KEY_PREFIX}idempotency:${call.task}:${call.key}`;
    const local = this.inFlight.get(id);
    if (local) {
      assertSameCall(call, local.fingerprint);
      return { ...replayOf(await local.promise), replayed: true };
    }
    let claim: { marker: string; alive: string };
    try {
      const found = await this.claimOrRead(id, call);
      if ('result' in found) return { ...found.result, replayed: true };
      claim = found;
    } catch (e) {
      if (e instanceof Refusal) throw e;
      throw new Refusal(
        'unavailable',
        `the shared idempotency store (Redis at ${this.where}) cannot be reached: ${(e as Error).message}; ` +
          'the upstream was not called, retry later (calls without an Idempotency-Key are not affected)',
        1,
      );
    }
    return this.run(id, call, claim, work);
  }

  /** Claims the key (the heartbeat first, so a marker never exists without one), or the stored result. */
  private async claimOrRead(
    id: string,
    call: IdempotentCall,
  ): Promise<{ marker: string; alive: string } | { result: StoredResult }> {
    await this.ready();
    for (;;) {
      const attempt = randomUUID();
      const alive = `${KEY_PREFIX}idempotency-alive:${attempt}`;
      const marker = JSON.stringify({
        state: 'pending',
        attempt,
        startedAt: Date.now(),
        fingerprint: call.fingerprint,
      } satisfies Entry);
      await this.redis.set(alive, '1', 'PX', this.heartbeatMs);
      const claimed = await this.redis.set(id, marker, 'PX', this.opts.ttlMs, 'NX');
      if (claimed === 'OK') return { marker, alive };
      await this.redis.del(alive);
      const raw = await this.redis.get(id);
      if (raw === null) continue; // released in between (a refusal): claim it again
      const entry = parseEntry(raw);
      if (entry.fingerprint) assertSameCall(call, entry.fingerprint);
      if (entry.state === 'done') return { result: entry.result };
      if (call.force) {
        await this.redis.set(alive, '1', 'PX', this.heartbeatMs);
        await this.redis.set(id, marker, 'PX', this.opts.ttlMs);
        return { marker, alive };
      }
      const result = await this.waitForResult(id, call, entry);
      if (result) return { result };
    }
  }

  private async run(
    id: string,
    call: IdempotentCall,
    claim: { marker: string; alive: string },
    work: () => Promise<StoredResult>,
  ): Promise<IdempotentOutcome> {
    const heartbeat = setInterval(
      () => void this.redis.pexpire(claim.alive, this.heartbeatMs).catch(() => {}),
      Math.max(10, Math.floor(this.heartbeatMs / 3)),
    );
    const promise = work();
    this.inFlight.set(id, { fingerprint: call.fingerprint, promise });
    let result: StoredResult;
    try {
      result = await promise;
    } catch (e) {
      await this.redis.eval(RELEASE, 1, id, claim.marker).catch(() => {});
      throw e;
    } finally {
      clearInterval(heartbeat);
      this.inFlight.delete(id);
      void this.redis.del(claim.alive).catch(() => {});
    }
    const done = JSON.stringify({
      state: 'done',
      fingerprint: call.fingerprint,
      result: replayOf(result),
    } satisfies Entry);
    try {
      await this.redis.eval(COMPLETE, 1, id, claim.marker, done, String(this.opts.ttlMs));
      return { ...firstAnswer(result), replayed: false };
    } catch (e) {
      this.opts.log?.warn(
        { redis: this.where, task: call.task, err: (e as Error).message },
        `the result of Idempotency-Key "${call.key}" could not be stored in Redis at ${this.where}`,
      );
      return { ...firstAnswer(result), replayed: false, notStored: `Redis at ${this.where}: ${(e as Error).message}` };
    }
  }

  /**
   * Waits for the result of an attempt running elsewhere: the result when it comes, undefined when the key is
   * free again; 409 when the attempt's heartbeat is gone, or after `waitMs`.
   */
  private async waitForResult(id: string, call: IdempotentCall, first: Entry): Promise<StoredResult | undefined> {
    const until = Date.now() + call.waitMs;
    let entry = first;
    for (;;) {
      if (entry.state === 'done') return entry.result;
      if (!entry.attempt || (await this.redis.exists(`${KEY_PREFIX}idempotency-alive:${entry.attempt}`)) === 0) {
        // Re-read: the owner may have stored its result and dropped its heartbeat in between.
        const latest = await this.redis.get(id);
        if (latest === null) return undefined;
        const now = parseEntry(latest);
        if (now.state === 'done') return now.result;
        throw interrupted(call, now.startedAt);
      }
      if (Date.now() >= until) throw stillRunning(call, entry.startedAt);
      await new Promise((r) => setTimeout(r, this.pollMs));
      const raw = await this.redis.get(id);
      if (raw === null) return undefined;
      entry = parseEntry(raw);
    }
  }

  /** Right after start (or a reconnect) the connection may not be ready yet: wait a moment, not longer. */
  private async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    const ms = this.opts.readyMs ?? 500;
    const timer = AbortSignal.timeout(ms);
    try {
      await onceEvent(this.redis, 'ready', { signal: timer });
    } catch {
      throw new Error(`no connection within ${ms} ms (${this.redis.status})`);
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** A stored entry; a marker of an earlier version (`pending:<id>`) is a pending attempt without a heartbeat. */
function parseEntry(raw: string): Entry {
  if (raw.startsWith('pending:')) return { state: 'pending', attempt: '' };
  const parsed = JSON.parse(raw) as Entry | StoredResult;
  if ('state' in parsed && (parsed.state === 'pending' || parsed.state === 'done')) return parsed;
  // A result stored by an earlier version: no fingerprint to compare.
  return { state: 'done', result: parsed as StoredResult };
}
