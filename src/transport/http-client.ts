/**
 * The HTTP client of every upstream call: one sender (send.ts) behind an origin check, the retry interceptor
 * (retry.ts) and a per-attempt timeout, over a dispatcher that carries the connector's TLS settings (tls.ts).
 * Scheduled extracts and logins use `send`: transient failures (5xx, 429, connection resets and refusals,
 * timeouts) are retried with backoff and Retry-After, and what still fails becomes an ExtractError. Event calls
 * use `exchange` with their own policy (RESET_ONCE) and deadline, and get the raw answer or error back.
 * Every other answer goes back to the caller, which decides what a 401 or 404 means.
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../log/logger.js';
import { ExtractError, ProvisioError } from '../model/errors.js';
import { Deadline } from './deadline.js';
import { classify, isRetryableStatus, statusText, TimeoutFailure } from './failure.js';
import { type OnRetry, type RetryOptions, type RetryPolicy, retry } from './retry.js';
import { excerpt } from './scrub.js';
import { type HttpRequest, type HttpResponse, type Send, sender } from './send.js';
import { describeRequest } from './url.js';

export {
  classify,
  errorCode,
  type Failure,
  isRetryableStatus,
  RESET_CODES,
  statusText,
  TimeoutFailure,
  TLS_CODE,
} from './failure.js';
export {
  backoffMs,
  DEFAULT_RETRY,
  IDEMPOTENT_METHODS,
  NO_RETRY,
  RESET_ONCE,
  type RetryEvent,
  type RetryOptions,
  type RetryPolicy,
  retryAfterMs,
  wait,
} from './retry.js';
export type { HttpMethod, HttpRequest, HttpResponse } from './send.js';

export interface HttpClientOptions {
  dispatcher: Dispatcher;
  /** Time limit of one attempt (spec.rest.timeout). */
  timeoutMs: number;
  /** The setting named when an attempt times out (default spec.rest.timeout). */
  timeoutField?: string;
  /** The setting named when a certificate cannot be verified (default spec.rest.tls.caSecretRef). */
  caField?: string;
  /** The log line of a retry (default `retrying REST request`). */
  retryMessage?: string;
  /** Stops everything the client does (the run's signal, or a session's). */
  signal: AbortSignal;
  retry: RetryOptions;
  log: Logger;
  /** Removes secret values from text before it is logged. */
  scrub: (text: string) => string;
  /**
   * Origins requests may go to (the connector's base URL, its login URL). A request elsewhere is refused before
   * anything is sent, so that no bug in URL building can carry the connector's credentials to another host.
   */
  origins?: ReadonlySet<string>;
  /** Told of every retry after it is logged (a connector counting throttled calls). */
  observeRetry?: OnRetry;
}

export interface ExchangeOptions {
  /** Replaces the client's signal for this exchange (an event call's deadline). */
  signal?: AbortSignal;
  retry?: RetryPolicy;
  /** false: no per-attempt time limit (the signal is the only bound). */
  attemptTimeout?: boolean;
  /** Replaces the client's retry log line. */
  onRetry?: OnRetry;
}

export class HttpClient {
  private readonly sendOnce: Send;
  private readonly logRetry: OnRetry;

  constructor(private readonly options: HttpClientOptions) {
    this.sendOnce = sender(options.dispatcher);
    this.logRetry = (event) => {
      const { req, attempt, delayMs, reason } = event;
      options.log.warn(
        {
          request: describeRequest(req.method, req.url),
          attempt,
          delayMs,
          reason: options.scrub(excerpt(reason, 120)),
        },
        options.retryMessage ?? 'retrying REST request',
      );
      options.observeRetry?.(event);
    };
  }

  /**
   * Sends the request, retrying transient failures; throws ExtractError when every attempt failed, unless
   * `returnLastAnswer` asks for the last answer (a connection check reports the status itself).
   */
  async send(req: HttpRequest, options: { returnLastAnswer?: boolean } = {}): Promise<HttpResponse> {
    const { retry: policy, signal } = this.options;
    // Failures name the host: "connection refused" alone does not say which of a connector's hosts refused.
    const what = `${describeRequest(req.method, req.url)} on ${req.url.host}`;
    const attempts = policy.maxAttempts === 1 ? '' : ` after ${policy.maxAttempts} attempts`;
    let res: HttpResponse;
    try {
      res = await this.exchange(req);
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof ProvisioError) throw e;
      const failure = classify(e, this.options.caField);
      throw new ExtractError(`${what} failed${failure.retryable ? attempts : ''}: ${failure.message}`);
    }
    // A retryable status that comes back here is the last of maxAttempts.
    if (isRetryableStatus(res.status) && !options.returnLastAnswer) {
      throw new ExtractError(
        `${what} failed${attempts}: ${statusText(res.status)}${res.body ? `: ${excerpt(res.body)}` : ''}`,
      );
    }
    return res;
  }

  /**
   * One exchange through the interceptors: the origin check, the retry policy (the client's unless given), a
   * per-attempt timeout (unless turned off). Returns the last answer whatever its status; throws the last
   * failure as it came (with its error code), a TimeoutFailure, or the signal's reason.
   */
  exchange(req: HttpRequest, options: ExchangeOptions = {}): Promise<HttpResponse> {
    const { origins } = this.options;
    if (origins && !origins.has(req.url.origin)) return Promise.reject(this.offOrigin(req));
    const send = options.attemptTimeout === false ? this.sendOnce : this.timed;
    return retry(
      send,
      req,
      options.signal ?? this.options.signal,
      options.retry ?? this.options.retry,
      options.onRetry ?? this.logRetry,
    );
  }

  /** One attempt bounded by the per-request timeout and the caller's signal. */
  private readonly timed: Send = async (req, signal) => {
    const deadline = new Deadline(signal, this.options.timeoutMs);
    try {
      return await this.sendOnce(req, deadline.signal);
    } catch (e) {
      if (deadline.timedOut && !signal.aborted)
        throw new TimeoutFailure(deadline.ms, this.options.timeoutField ?? 'spec.rest.timeout');
      throw e;
    } finally {
      deadline.dispose();
    }
  };

  private offOrigin(req: HttpRequest): ExtractError {
    const allowed = [...(this.options.origins ?? [])].join(', ');
    return new ExtractError(
      `${describeRequest(req.method, req.url)} on ${req.url.origin} is outside the connector's origins (${allowed}); ` +
        "refusing to send the connector's credentials there",
    );
  }
}

/** First value of a response header (undici gives arrays for repeated headers). */
export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}
