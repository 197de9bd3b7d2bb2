/**
 * One HTTP exchange of an event call, without the extract's retry loop: a workflow waits for the answer and
 * a POST or PATCH must never be sent twice. Redirects are not followed (undici's request does not), so a 302
 * is reported as it came. The call's signal bounds the whole exchange, body included.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, request } from 'undici';
import type { CallMethod } from './input.js';

export interface CallRequest {
  method: CallMethod;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export interface CallAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export async function sendOnce(dispatcher: Dispatcher, req: CallRequest, signal: AbortSignal): Promise<CallAnswer> {
  const res = await request(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    dispatcher,
    signal,
  });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
}

/**
 * A per-call deadline that also follows the caller's signal. Its own controller (instead of AbortSignal.any)
 * tells a timeout from a caller going away, and removes its listener from the caller's signal again.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => this.controller.abort(this.outer.reason);
  timedOut = false;

  constructor(
    private readonly outer: AbortSignal,
    readonly ms: number,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error('timeout'));
    }, ms);
    if (outer.aborted) this.onAbort();
    else outer.addEventListener('abort', this.onAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Waits for `promise` but gives up when the deadline passes (the promise itself may be shared). */
  race<T>(promise: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const stop = (): void => reject(signal.reason);
      signal.addEventListener('abort', stop, { once: true });
      promise.then(
        (v) => {
          signal.removeEventListener('abort', stop);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', stop);
          reject(e);
        },
      );
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer.removeEventListener('abort', this.onAbort);
  }
}
