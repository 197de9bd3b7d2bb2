/**
 * The one sender: a single HTTP exchange over undici with the session's dispatcher (its TLS settings), bounded by
 * a signal, the body read as text (so that a response that is retried frees its socket). Redirects are not
 * followed (undici's request does not), so a 302 is reported as it came. Retries, timeouts and origin checks
 * are interceptors around it (retry.ts, http-client.ts).
 */
import { type Dispatcher, request } from 'undici';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  /** Text (JSON, forms) or bytes (a photo). */
  body?: string | Uint8Array;
}

export interface HttpResponse {
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one request, once; the signal bounds the whole exchange, body included. */
export type Send = (req: HttpRequest, signal: AbortSignal) => Promise<HttpResponse>;

export function sender(dispatcher: Dispatcher): Send {
  return async (req, signal) => {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      dispatcher,
      signal,
    });
    const body = await res.body.text();
    return { url: req.url, status: res.statusCode, headers: res.headers, body };
  };
}
