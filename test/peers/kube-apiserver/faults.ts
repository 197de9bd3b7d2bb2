/**
 * Injected failures for tests of retry and conflict handling: the next N requests matching a method and path
 * answer a given status (with a Status body shaped like the real server's), arrive late, or have their
 * connection reset. Faults are consumed in the order they were added.
 */

export interface Fault {
  /** HTTP method to match (any when unset). */
  method?: string;
  /** Exact request path (no query), or a pattern tested against it. */
  path: string | RegExp;
  /** Only watch requests (true) or only non-watch requests (false); both when unset. */
  watch?: boolean;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  /** Answer with this status code and a Status body instead of serving the request. */
  status?: number;
  /** Status reason and message (defaults: the real server's for the code; 409 uses the object-modified message). */
  reason?: string;
  message?: string;
  /** Sent as Retry-After and details.retryAfterSeconds (429, 503). */
  retryAfterSeconds?: number;
  /** Wait this long first (then answer the status, or serve the request normally). */
  delayMs?: number;
  /** Destroy the connection without answering. */
  reset?: boolean;
}

interface Pending extends Fault {
  left: number;
}

export class FaultInjector {
  private pending: Pending[] = [];

  add(fault: Fault): void {
    this.pending.push({ ...fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.pending = [];
  }

  get size(): number {
    return this.pending.length;
  }

  /** The first fault matching this request, used up by one. */
  take(method: string, path: string, isWatch: boolean): Fault | undefined {
    const i = this.pending.findIndex(
      (f) =>
        (!f.method || f.method.toUpperCase() === method) &&
        (typeof f.path === 'string' ? f.path === path : f.path.test(path)) &&
        (f.watch === undefined || f.watch === isWatch),
    );
    if (i < 0) return undefined;
    const f = this.pending[i];
    f.left -= 1;
    if (f.left <= 0) this.pending.splice(i, 1);
    return f;
  }
}
