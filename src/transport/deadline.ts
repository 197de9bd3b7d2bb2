/**
 * A time limit that also follows a caller's signal: the timeout of one HTTP attempt (spec.rest.timeout) or of a
 * whole event call (spec.event.timeout). Its own controller, instead of AbortSignal.any() plus
 * AbortSignal.timeout(), tells a timeout from a caller going away, and removes its listener from the caller's
 * (often long-lived) signal again: AbortSignal.any leaks listeners on Node 20.
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
