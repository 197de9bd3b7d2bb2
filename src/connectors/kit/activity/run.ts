/**
 * What every connector type's event activities share (SCIM, Microsoft Graph): one deadline
 * (spec.event.timeout, default 30s) bounds the whole activity, session and every request; the retry rules
 * (a 429 or 503 waited out within the deadline for every method but POST, a connection reset resent once for
 * GET, PUT, PATCH-free methods as the transport's RESET_ONCE says, a POST never sent twice); the session lease
 * taken under the deadline; and the Exception text of whatever went wrong, scrubbed of the connector's secrets.
 * A type adds its requests and its refusal texts in a subclass (connectors/<type>/actions/run.ts).
 */
import { parseDuration } from '../../../model/duration.js';
import { Deadline } from '../../../transport/deadline.js';
import {
  classify,
  type ExchangeOptions,
  errorCode,
  type HttpMethod,
  RESET_ONCE,
  type RetryPolicy,
  TLS_CODE,
} from '../../../transport/http-client.js';
import { type ActionContext, type ActionResult, InvalidInvocationError } from '../../types.js';
import { scrubbedResult } from '../event-call/outcome.js';
import { isRecord } from '../markers.js';
import type { SessionLease } from '../session-cache.js';

export const DEFAULT_EVENT_TIMEOUT = '30s';

/** A request that failed: the Exception text, and the status and error body when the server answered. */
export class ActivityFailure extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly response: unknown = null,
  ) {
    super(message);
  }
}

const BUSY = new Set([429, 503]);

/** The retry policy of one request of an activity: see the file comment. */
export function activityRetryPolicy(method: HttpMethod, timeoutMs: number): RetryPolicy {
  if (method === 'POST') return RESET_ONCE;
  let resets = 0;
  return {
    ...RESET_ONCE,
    maxAttempts: 50,
    baseDelayMs: 200,
    maxDelayMs: 5_000,
    maxRetryAfterMs: timeoutMs,
    retryStatus: (status) => BUSY.has(status),
    retryFailure: (error, req) => resets++ === 0 && RESET_ONCE.retryFailure!(error, req),
  };
}

/**
 * What an Exception adds when a POST was answered 429 or 503: the policy above never sends a POST twice (the
 * first may have acted), so the caller learns that nothing was retried and that invoking again is theirs to do.
 */
export function notResentNote(method: HttpMethod, status: number): string {
  return method === 'POST' && BUSY.has(status)
    ? '; not sent again (a POST is never repeated within one call, so that nothing is created twice): invoke again later'
    : '';
}

/** Opens (or leases from a cache) the session an activity's requests go through; bounded by `signal`. */
export type SessionOpener<S> = (ctx: ActionContext, signal: AbortSignal) => Promise<SessionLease<S>>;

export abstract class ActivityRunBase<S> {
  protected lease?: SessionLease<S>;
  protected readonly deadline: Deadline;
  readonly timeoutText: string;
  /** The request under way, for messages (`PATCH /Users/u1`). */
  what: string;

  constructor(
    readonly ctx: ActionContext,
    private readonly open: SessionOpener<S>,
    /** The upstream's name in log lines: `SCIM`, `Graph`. */
    private readonly system: string,
  ) {
    this.timeoutText = ctx.task.spec.event?.timeout ?? DEFAULT_EVENT_TIMEOUT;
    this.deadline = new Deadline(ctx.signal, parseDuration(this.timeoutText));
    this.what = `the ${system} session`;
  }

  protected async session(): Promise<S> {
    if (this.lease) return this.lease.session;
    const leasing = this.open(this.ctx, this.deadline.signal);
    this.lease = await this.deadline.race(leasing).catch((e: unknown) => {
      leasing.then(
        (l) => l.release(),
        () => {},
      );
      throw e;
    });
    return this.lease.session;
  }

  /** How one request of this activity is exchanged: the deadline is its only time bound. */
  protected exchangeOptions(method: HttpMethod): ExchangeOptions {
    return {
      signal: this.deadline.signal,
      retry: activityRetryPolicy(method, this.deadline.ms),
      attemptTimeout: false,
    };
  }

  /** Removes the connector's secret values (and any registered with the session) from a text. */
  abstract scrub(text: string): string;

  /** The Exception result of whatever the activity threw; a bad invocation is thrown on (400). */
  failed(e: unknown): ActionResult {
    if (e instanceof InvalidInvocationError) throw e;
    const scrub = (t: string): string => this.scrub(t);
    let text: string;
    let statusCode: number | undefined;
    let response: unknown = null;
    if (e instanceof ActivityFailure) [text, statusCode, response] = [scrub(e.message), e.statusCode, e.response];
    else if (this.deadline.timedOut)
      text = `${this.what} did not answer within ${this.timeoutText} (spec.event.timeout)`;
    else if (this.ctx.signal.aborted) text = `${this.what} was cancelled`;
    else if (errorCode(e) === undefined && e instanceof Error) text = `${this.what} was not sent: ${scrub(e.message)}`;
    else text = `${this.what} failed: ${scrub(classify(e).message)}`;
    if (TLS_CODE.test(errorCode(e) ?? '')) this.lease?.evict();
    this.ctx.log.warn({ statusCode, exception: text }, `${this.system} activity failed`);
    return { state: 'Exception', statusCode, response, exception: text };
  }

  dispose(): void {
    this.deadline.dispose();
    this.lease?.release();
  }
}

/** Runs an activity body with its run; failures become Exception results, answers are scrubbed. */
export async function runActivity<R extends ActivityRunBase<unknown>>(
  run: R,
  body: (run: R) => Promise<ActionResult>,
): Promise<ActionResult> {
  try {
    // Whatever the upstream answered, scrubbed of the connector's secrets (an echoed Authorization value).
    return scrubbedResult(await body(run), (t) => run.scrub(t));
  } catch (e) {
    return run.failed(e);
  } finally {
    run.dispose();
  }
}

export const completed = (statusCode: number, response: unknown = null): ActionResult => ({
  state: 'Completed',
  statusCode,
  response,
  exception: null,
});

export const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

/** The body of an answer: JSON when it parses, else the text; null when empty. */
export function parseBody(body: string): unknown {
  if (body.trim() === '') return null;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
