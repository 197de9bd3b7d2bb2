/**
 * One HTTP exchange with retries: undici over a dispatcher that carries the connector's TLS settings.
 * Transient failures (5xx, 429, connection resets and refusals, timeouts) are retried with exponential
 * backoff and jitter, honouring Retry-After; every other answer goes back to the caller, which decides
 * what a 401 or 404 means. Bodies are read as text here so that a retried response frees its socket.
 */
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';
import type { Logger } from '../log/logger.js';
import { ExtractError } from '../model/errors.js';
import { excerpt } from './scrub.js';
import { describeRequest } from './url.js';

export type HttpMethod = 'GET' | 'POST';

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

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

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
};

export interface HttpClientOptions {
  dispatcher: Dispatcher;
  timeoutMs: number;
  signal: AbortSignal;
  retry: RetryOptions;
  log: Logger;
  /** Removes secret values from text before it is logged. */
  scrub: (text: string) => string;
}

/** Error codes of failures that another attempt may not hit (the network, not the request, failed). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const READABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  UND_ERR_SOCKET: 'connection closed by the server',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
};

export interface Failure {
  retryable: boolean;
  message: string;
  /** Wait requested by the server (Retry-After), already capped. */
  waitMs?: number;
}

export const statusText = (status: number): string =>
  `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;

export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

export class HttpClient {
  constructor(private readonly options: HttpClientOptions) {}

  /**
   * Sends the request, retrying transient failures; throws ExtractError when every attempt failed, unless
   * `returnLastAnswer` asks for the last answer (a connection check reports the status itself).
   */
  async send(req: HttpRequest, options: { returnLastAnswer?: boolean } = {}): Promise<HttpResponse> {
    const { retry, signal, log } = this.options;
    const what = describeRequest(req.method, req.url);
    let last: Failure = { retryable: false, message: 'not attempted' };
    for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
      signal.throwIfAborted();
      try {
        const res = await this.once(req);
        if (!isRetryableStatus(res.status)) return res;
        if (options.returnLastAnswer && attempt === retry.maxAttempts) return res;
        last = {
          retryable: true,
          message: `${statusText(res.status)}${res.body ? `: ${excerpt(res.body)}` : ''}`,
          waitMs: retryAfterMs(res.headers['retry-after'], retry.maxRetryAfterMs),
        };
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        last = classify(e);
        if (!last.retryable) throw new ExtractError(`${what} failed: ${last.message}`);
      }
      if (attempt === retry.maxAttempts) break;
      const delay = last.waitMs ?? backoffMs(attempt, retry);
      log.warn(
        { request: what, attempt, delayMs: delay, reason: this.options.scrub(excerpt(last.message, 120)) },
        'retrying REST request',
      );
      await sleep(delay, undefined, { signal });
    }
    const attempts = retry.maxAttempts === 1 ? '' : ` after ${retry.maxAttempts} attempts`;
    throw new ExtractError(`${what} failed${attempts}: ${last.message}`);
  }

  /** One attempt, bounded by the per-request timeout and the run's signal. */
  private async once(req: HttpRequest): Promise<HttpResponse> {
    const { dispatcher, timeoutMs, signal } = this.options;
    // A controller per attempt rather than AbortSignal.any(): it tells a timeout from a stop request, and
    // its listener on the long-lived run signal is removed again (AbortSignal.any leaks on Node 20).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, timeoutMs);
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher,
        signal: controller.signal,
      });
      const body = await res.body.text();
      return { url: req.url, status: res.statusCode, headers: res.headers, body };
    } catch (e) {
      if (timedOut && !signal.aborted) throw new TimeoutFailure(timeoutMs);
      throw e;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

class TimeoutFailure extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${formatMs(timeoutMs)} (spec.rest.timeout)`);
  }
}

const formatMs = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** Finds the first error code along the `cause` chain (undici wraps socket errors). */
export function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A failed exchange as a readable message, and whether another attempt may succeed (event calls reuse it). */
export function classify(e: unknown): Failure {
  if (e instanceof TimeoutFailure) return { retryable: true, message: e.message };
  const code = errorCode(e);
  const text = e instanceof Error ? e.message : String(e);
  if (code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_|HOSTNAME|ALTNAME/.test(code)) {
    // Certificate problems do not heal with retries; say how to fix the usual one.
    return {
      retryable: false,
      message: `TLS error: ${text} (${code}); if the server's certificate is issued by a private CA, add that CA with spec.rest.tls.caSecretRef`,
    };
  }
  const readable = code ? (READABLE_CODES[code] ?? text) : text;
  return {
    retryable: code !== undefined && TRANSIENT_CODES.has(code),
    message: code && readable !== text ? `${readable} (${code})` : `${readable}${code ? ` (${code})` : ''}`,
  };
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

/** First value of a response header (undici gives arrays for repeated headers). */
export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}
