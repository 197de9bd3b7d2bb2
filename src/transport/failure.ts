/**
 * Failed exchanges as readable messages, and whether another attempt may help. Shared by the retry
 * interceptor, the extract path (ExtractError messages) and event calls (Exception texts).
 */
import { STATUS_CODES } from 'node:http';

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

/**
 * Codes of a connection that broke after it was established: the request may have reached the upstream, so
 * only a method whose repetition has the same effect (GET, PUT, DELETE) may be sent again.
 */
export const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

export const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_|HOSTNAME|ALTNAME/;

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

/** One attempt got no complete answer within its time limit. */
export class TimeoutFailure extends Error {
  constructor(
    readonly timeoutMs: number,
    field: string,
  ) {
    super(`no complete answer within ${formatMs(timeoutMs)} (${field})`);
  }
}

const formatMs = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

export const statusText = (status: number): string =>
  `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;

export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

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

/** A failed exchange as a readable message, and whether another attempt may succeed. */
export function classify(e: unknown, caField = 'spec.rest.tls.caSecretRef'): Failure {
  if (e instanceof TimeoutFailure) return { retryable: true, message: e.message };
  const code = errorCode(e);
  const text = e instanceof Error ? e.message : String(e);
  if (code && TLS_CODE.test(code)) {
    // Certificate problems do not heal with retries; say how to fix the usual one.
    return {
      retryable: false,
      message: `TLS error: ${text} (${code}); if the server's certificate is issued by a private CA, add that CA with ${caField}`,
    };
  }
  const readable = code ? (READABLE_CODES[code] ?? text) : text;
  return {
    retryable: code !== undefined && TRANSIENT_CODES.has(code),
    message: code && readable !== text ? `${readable} (${code})` : `${readable}${code ? ` (${code})` : ''}`,
  };
}
