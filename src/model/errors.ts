/**
 * Typed errors with reasons, the Flux way: every failure says what happened (`reason`, the word that status
 * conditions and Events carry) and whether trying again can help (`retryable`) or the resource is stalled
 * until someone changes it. Run outcomes and HTTP answers are worked out from these, once.
 */
import type { RecordKind } from './records.js';
import type { TaskRunSummary } from './resources.js';

/** Why a run, or one phase of it, did not succeed: the run summary's `reason` (schemas/task.json) but Succeeded. */
export type RunFailureReason = Exclude<NonNullable<TaskRunSummary['reason']>, 'Succeeded'>;

export class ProvisioError extends Error {
  constructor(
    message: string,
    readonly reason: string,
    /** Whether a later attempt may succeed without anyone changing a resource or a secret. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A run failed: thrown by connectors (the source failed or answered something unusable), by the engine (the
 * target refused, the deletion guard held) and by the run's signal (stopped, timed out).
 */
export class RunFailure extends ProvisioError {
  constructor(
    message: string,
    override readonly reason: RunFailureReason = 'ExtractFailed',
    retryable = reason !== 'Unsupported',
  ) {
    super(message, reason, retryable);
  }

  /** The extract phase's status for this failure. */
  get extractStatus(): 'Failed' | 'Incomplete' | 'Stopped' {
    if (this.reason === 'Stopped') return 'Stopped';
    return this.reason === 'ExtractIncomplete' ? 'Incomplete' : 'Failed';
  }
}

/**
 * The extract failed. `Incomplete`: the source answered but not everything could be read (the safety
 * threshold, a page that would not come); `Failed`: the source could not be read.
 */
export class ExtractError extends RunFailure {
  constructor(message: string, status: 'Failed' | 'Incomplete' = 'Failed') {
    super(message, status === 'Incomplete' ? 'ExtractIncomplete' : 'ExtractFailed');
  }

  get status(): 'Failed' | 'Incomplete' {
    return this.reason === 'ExtractIncomplete' ? 'Incomplete' : 'Failed';
  }
}

/**
 * A kind's cursor is expired or invalid (Graph answers 410 to a stale deltaLink, an LDAP server lost the
 * uSN). The engine drops that kind's cursor and reads the kind in full once, in the same run.
 */
export class ResyncRequired extends ProvisioError {
  constructor(
    readonly kind: RecordKind,
    message: string,
  ) {
    super(message, 'ResyncRequired', true);
  }
}

/** What kind of refusal an invocation or API request met; `server/` maps each kind to one HTTP status. */
export type RefusalKind =
  | 'invalid' // the request itself is wrong: 400
  | 'notFound' // 404
  | 'conflict' // the resource cannot do this now (invalid, suspended, wrong usage; an outcome unknown): 409
  | 'mismatch' // the request contradicts an earlier one (an Idempotency-Key reused for another call): 422
  | 'busy' // a per-task limit: 429
  | 'overloaded' // the process-wide limit: 503
  | 'unavailable'; // a store the request needs cannot be reached (shared idempotency in Redis): 503

/** A request refused before any upstream was called; safe to retry as `retryAfterSeconds` says. */
export class Refusal extends ProvisioError {
  constructor(
    readonly kind: RefusalKind,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message, kind, kind === 'busy' || kind === 'overloaded' || kind === 'unavailable');
  }
}

/** The invocation itself is wrong (bad method, URL off the connector's origin or base path): a 400. */
export class InvalidInvocationError extends Refusal {
  constructor(message: string) {
    super('invalid', message);
  }
}
