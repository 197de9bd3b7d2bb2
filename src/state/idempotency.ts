/**
 * Idempotency-Key support (ADR 0007, the retry contract): the first result of an invocation is stored and
 * returned for a repeat with the same key within the TTL, so a workflow engine's retry never acts on the upstream
 * twice. This file holds the port, the answers every adapter gives in the same words, and the state-directory
 * adapter (SQLite; Redis is in redis/redis-idempotency.ts).
 *
 * - A key names one call: the hashes of its activity, input and data are stored with it, and a repeat that
 *   differs is refused (422) naming what differs, instead of silently getting another call's answer.
 * - Before the upstream is called, a pending marker is written durably (SQLite synchronous=FULL: fsynced at
 *   commit). A repeat that finds the marker of an attempt that is no longer running (the process was killed)
 *   is answered 409 "outcome unknown", with the time of the first attempt, for the rest of the key's TTL: nobody
 *   knows whether the upstream acted, so calling it again could create a duplicate. `Idempotency-Replay: force`
 *   lets the caller take that risk.
 * - A repeat that arrives while the first attempt is still running waits for it.
 * - If the result cannot be stored after the upstream answered, the caller still gets the answer (`notStored`).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { Refusal } from '../model/errors.js';
import { openSqlite } from './sqlite.js';

export interface StoredResult {
  status: number;
  body: unknown;
  /**
   * What the store keeps and a repeat answers, when it must differ from `body`: the first answer may hold a
   * value given once (a generated password) that no store and no replay may see.
   */
  replay?: unknown;
}

/** What a repeat of a call gets, and what is stored for it. */
export const replayOf = (result: StoredResult): StoredResult => ({
  status: result.status,
  body: result.replay === undefined ? result.body : result.replay,
});

/** The first call's own answer: its body, without the replay variant. */
export const firstAnswer = (result: StoredResult): StoredResult => ({ status: result.status, body: result.body });

/** SHA-256 (hex) of the canonical JSON of each part of a call: what a key is bound to. */
export interface CallFingerprint {
  activity: string;
  input: string;
  data: string;
}

export interface IdempotentCall {
  /** The task (namespace/name): keys are per task. */
  task: string;
  key: string;
  fingerprint: CallFingerprint;
  /** `Idempotency-Replay: force`: call again although the first attempt's outcome is unknown. */
  force?: boolean;
  /** Longest a repeat waits for a first attempt still running in another process (the task's timeout). */
  waitMs: number;
}

export interface IdempotentOutcome extends StoredResult {
  replayed: boolean;
  /** Why the result could not be stored, when it could not: the caller gets it, a later retry may not. */
  notStored?: string;
}

/** Where first results live: the state directory (one replica) or Redis (shared by every replica). */
export interface Idempotency {
  once(call: IdempotentCall, work: () => Promise<StoredResult>): Promise<IdempotentOutcome>;
  close(): void | Promise<void>;
}

const PARTS = ['activity', 'input', 'data'] as const;

/** Throws the 422 refusal when a key comes back with another activity, input or data than its first call. */
export function assertSameCall(call: IdempotentCall, first: CallFingerprint): void {
  const differs = PARTS.filter((p) => first[p] !== call.fingerprint[p]);
  if (differs.length === 0) return;
  const what = differs.length === 1 ? `its ${differs[0]} differs` : `its ${differs.join(' and ')} differ`;
  throw new Refusal(
    'mismatch',
    `Idempotency-Key "${call.key}" was first used for another call on task ${call.task}: ${what}; ` +
      'a key stands for one call, so send a new key for a new call',
  );
}

/** The 409 for a repeat whose first attempt was interrupted (its process died): the outcome is unknown. */
export function interrupted(call: IdempotentCall, startedAt: number | undefined): Refusal {
  const when = startedAt ? ` at ${new Date(startedAt).toISOString()}` : '';
  return new Refusal(
    'conflict',
    `outcome unknown: the first attempt was interrupted (Idempotency-Key "${call.key}", started${when}); ` +
      'the upstream may or may not have acted, so it is not called again: check the upstream, then send ' +
      '"Idempotency-Replay: force" to call it anyway, or use a new key',
  );
}

/** The 409 for a repeat that waited as long as the task's timeout for a first attempt still running elsewhere. */
export function stillRunning(call: IdempotentCall, startedAt: number | undefined): Refusal {
  const when = startedAt ? ` at ${new Date(startedAt).toISOString()}` : '';
  return new Refusal(
    'conflict',
    `the first attempt with Idempotency-Key "${call.key}" (started${when}) is still running on another replica; retry later`,
    1,
  );
}

interface Row {
  fingerprint: string;
  state: 'pending' | 'done';
  owner: string;
  started_at: number;
  result: string | null;
}

interface LocalAttempt {
  promise: Promise<StoredResult>;
}

export class IdempotencyStore implements Idempotency {
  private readonly db: Database.Database;
  /** This process: a pending row of another owner belongs to a process that is gone (one per state dir). */
  private readonly owner = randomUUID();
  private readonly inFlight = new Map<string, LocalAttempt>();
  private readonly getStmt: Database.Statement<[string, string, number], Row>;
  private readonly claimStmt: Database.Statement<[string, string, string, string, number, number]>;
  private readonly doneStmt: Database.Statement<[string, number, string, string, string]>;
  private readonly dropStmt: Database.Statement<[string, string, string]>;
  private lastPurge = 0;

  constructor(
    file: string,
    readonly ttlMs: number,
  ) {
    this.db = openSqlite(file);
    // This connection only: every commit is fsynced, so the pending marker survives a kill -9 or a power loss
    // that happens while the upstream is being called.
    this.db.pragma('synchronous = FULL');
    // The table of earlier versions had no fingerprint and no pending marker.
    this.db.exec(`DROP TABLE IF EXISTS idempotency;
    CREATE TABLE IF NOT EXISTS idempotent_calls (
      task TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, state TEXT NOT NULL, owner TEXT NOT NULL,
      started_at INTEGER NOT NULL, result TEXT, expires_at INTEGER NOT NULL,
      PRIMARY KEY (task, key)
    ) WITHOUT ROWID`);
    this.getStmt = this.db.prepare(
      'SELECT fingerprint, state, owner, started_at, result FROM idempotent_calls WHERE task = ? AND key = ? AND expires_at > ?',
    );
    this.claimStmt = this.db.prepare(
      `INSERT OR REPLACE INTO idempotent_calls (task, key, fingerprint, state, owner, started_at, result, expires_at)
       VALUES (?, ?, ?, 'pending', ?, ?, NULL, ?)`,
    );
    this.doneStmt = this.db.prepare(
      `UPDATE idempotent_calls SET state = 'done', result = ?, expires_at = ? WHERE task = ? AND key = ? AND owner = ?`,
    );
    this.dropStmt = this.db.prepare(
      `DELETE FROM idempotent_calls WHERE task = ? AND key = ? AND owner = ? AND state = 'pending'`,
    );
  }

  async once(call: IdempotentCall, work: () => Promise<StoredResult>): Promise<IdempotentOutcome> {
    const { task, key } = call;
    const id = `${task}\u0000${key}`;
    const row = this.read(call);
    if (row) {
      assertSameCall(call, JSON.parse(row.fingerprint) as CallFingerprint);
      if (row.state === 'done') return { ...(JSON.parse(row.result ?? 'null') as StoredResult), replayed: true };
      const local = row.owner === this.owner ? this.inFlight.get(id) : undefined;
      if (local) return { ...replayOf(await local.promise), replayed: true };
      if (!call.force) throw interrupted(call, row.started_at);
    }
    this.claim(call);
    const promise = work();
    this.inFlight.set(id, { promise });
    let result: StoredResult;
    try {
      result = await promise;
    } catch (e) {
      // Refused before any upstream call (a full limit, a bad invocation): the retry may go through.
      this.tryRun(() => this.dropStmt.run(task, key, this.owner));
      throw e;
    } finally {
      this.inFlight.delete(id);
    }
    const failed = this.tryRun(() =>
      this.doneStmt.run(JSON.stringify(replayOf(result)), Date.now() + this.ttlMs, task, key, this.owner),
    );
    this.purge();
    return { ...firstAnswer(result), replayed: false, ...(failed ? { notStored: `state directory: ${failed}` } : {}) };
  }

  private read(call: IdempotentCall): Row | undefined {
    try {
      return this.getStmt.get(call.task, call.key, Date.now());
    } catch (e) {
      throw unavailable(e);
    }
  }

  /** Writes the pending marker, fsynced before the upstream is called; a refusal (503) when it cannot. */
  private claim(call: IdempotentCall): void {
    const now = Date.now();
    try {
      this.claimStmt.run(call.task, call.key, JSON.stringify(call.fingerprint), this.owner, now, now + this.ttlMs);
    } catch (e) {
      throw unavailable(e);
    }
  }

  /** Runs a write; the error's message when it failed. */
  private tryRun(write: () => unknown): string | undefined {
    try {
      write();
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** Drops expired entries, at most once a minute. */
  private purge(): void {
    const now = Date.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    this.tryRun(() => this.db.prepare('DELETE FROM idempotent_calls WHERE expires_at <= ?').run(now));
  }

  close(): void {
    this.db.close();
  }
}

function unavailable(e: unknown): Refusal {
  return new Refusal(
    'unavailable',
    `cannot record the Idempotency-Key in the state directory (${(e as Error).message}); the upstream was not called`,
    1,
  );
}
