/**
 * The retry interceptor: wraps a Send and tries an exchange again when the policy says another attempt is safe
 * and may help, with exponential backoff and jitter, honouring Retry-After (delay-seconds or an HTTP date,
 * capped), and stopping at once when the signal aborts, also while it waits.
 *
 * Why not undici's `interceptors.retry` (RetryHandler, undici 7): its wait between attempts is a bare setTimeout
 * that an abort does not cut short; it has no jitter; `Retry-After: 0` falls back to the backoff; when the
 * attempts run out on a status it throws a RequestRetryError without the body, while we report the upstream's
 * text (and a connection check wants the last answer itself); and it has no hook to log each retry with a
 * scrubbed reason. Wrapping the one sender is twenty lines and keeps every decision in the policy below.
 */
import { classify, errorCode, isRetryableStatus, RESET_CODES, statusText } from './failure.js';
import { excerpt } from './scrub.js';
import type { HttpMethod, HttpRequest, HttpResponse, Send } from './send.js';

export interface RetryOptions {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** First backoff delay; doubled per attempt, then jittered. Tests set it low. */
  baseDelayMs: number;
  /** Largest backoff delay. */
  maxDelayMs: number;
  /** Largest wait a Retry-After header may impose; longer values are cut to this. */
  maxRetryAfterMs: number;
}

/** RetryOptions plus what may be retried; the defaults are those of scheduled extracts. */
export interface RetryPolicy extends RetryOptions {
  /** Whether an answer with this status is tried again. Default: 429 and 5xx. */
  retryStatus?(status: number): boolean;
  /** Whether a failure without an answer is tried again. Default: transient network failures (classify). */
  retryFailure?(error: unknown, req: HttpRequest): boolean;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
};

/** Methods that may be repeated after the request may have reached the upstream: once or twice, same effect. */
export const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set(['GET', 'PUT', 'DELETE']);

/** A single attempt, nothing retried. */
export const NO_RETRY: RetryPolicy = {
  maxAttempts: 1,
  baseDelayMs: 0,
  maxDelayMs: 0,
  maxRetryAfterMs: 0,
  retryStatus: () => false,
  retryFailure: () => false,
};

/**
 * Event calls (a workflow waits, and a POST or PATCH must never be sent twice): no status is retried, and only a
 * connection reset before any answer, only for GET, PUT and DELETE, once, at once.
 */
export const RESET_ONCE: RetryPolicy = {
  ...NO_RETRY,
  maxAttempts: 2,
  retryFailure: (error, req) => IDEMPOTENT_METHODS.has(req.method) && RESET_CODES.has(errorCode(error) ?? ''),
};

export interface RetryEvent {
  req: HttpRequest;
  /** The attempt that failed (1 for the first). */
  attempt: number;
  delayMs: number;
  /** What went wrong, not yet scrubbed: `HTTP 503 Service Unavailable: <body excerpt>` or the failure text. */
  reason: string;
  /** The answer that is retried, or the error. */
  status?: number;
  error?: unknown;
}

export type OnRetry = (event: RetryEvent) => void;

/**
 * One exchange with retries. Returns the first answer the policy does not retry, or the last one when the
 * attempts ran out; throws the first failure it does not retry, or the last one; throws the signal's reason as
 * soon as the signal aborts.
 */
export async function retry(
  send: Send,
  req: HttpRequest,
  signal: AbortSignal,
  policy: RetryPolicy,
  onRetry?: OnRetry,
): Promise<HttpResponse> {
  const retryStatus = policy.retryStatus ?? isRetryableStatus;
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    let event: RetryEvent;
    try {
      const res = await send(req, signal);
      if (attempt >= policy.maxAttempts || !retryStatus(res.status)) return res;
      const wait = retryAfterMs(res.headers['retry-after'], policy.maxRetryAfterMs);
      event = {
        req,
        attempt,
        delayMs: wait ?? backoffMs(attempt, policy),
        reason: `${statusText(res.status)}${res.body ? `: ${excerpt(res.body)}` : ''}`,
        status: res.status,
      };
    } catch (e) {
      signal.throwIfAborted();
      const retryable = policy.retryFailure ? policy.retryFailure(e, req) : classify(e).retryable;
      if (attempt >= policy.maxAttempts || !retryable) throw e;
      event = { req, attempt, delayMs: backoffMs(attempt, policy), reason: classify(e).message, error: e };
    }
    onRetry?.(event);
    if (event.delayMs > 0) await wait(event.delayMs, signal);
  }
}

/** The interceptor form: a Send that retries by `policy`. */
export const retrying =
  (send: Send, policy: RetryPolicy, onRetry?: OnRetry): Send =>
  (req, signal) =>
    retry(send, req, signal, policy, onRetry);

/** Sleeps `ms`, or rejects with the signal's reason the moment it aborts. */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random, so retries spread out. */
export function backoffMs(attempt: number, retry: RetryOptions): number {
  const exp = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), capped; undefined when absent or unreadable. */
export function retryAfterMs(
  header: string | string[] | undefined,
  capMs: number,
  now = Date.now(),
): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, capMs);
}
