/**
 * The closed-loop load generator of the event benchmark: `concurrency` workers on one undici Pool (one
 * connection per worker, pipelining 1), each sending its next request when the previous one has answered,
 * until the time is up or `maxRequests` have been sent. Every answer's body is read and checked; latency is
 * measured from sending to the end of the body, for the answers that pass the check.
 */
import { Pool } from 'undici';

export interface LoadRequest {
  method: 'PATCH' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Undefined when the answer is right; else a short kind of error ("status 429", "state Exception"). */
  check: (status: number, body: string) => string | undefined;
}

export interface LoadOptions {
  concurrency: number;
  durationMs: number;
  /** Upper bound on requests sent, whatever the time. */
  maxRequests: number;
  /** Per request: headers and body each (undici headersTimeout/bodyTimeout). */
  requestTimeoutMs: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  /** Count per kind of error. */
  errorKinds: Record<string, number>;
  /** The first few wrong answers, verbatim (cut). */
  errorSamples: string[];
  elapsedMs: number;
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
}

/** A pool for `origin` with one connection per worker (`ca`: the CA an https origin's certificate is from). */
export function loadPool(origin: string, opts: LoadOptions, ca?: string): Pool {
  return new Pool(origin, {
    ...(ca ? { connect: { ca } } : {}),
    connections: opts.concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: opts.requestTimeoutMs,
    bodyTimeout: opts.requestTimeoutMs,
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const MAX_SAMPLES = 5;

/**
 * Runs the load; never longer than durationMs + requestTimeoutMs + 5 s (a watchdog destroys the pool if the
 * workers have not returned by then, which fails every request still open).
 */
export async function runLoad(pool: Pool, request: LoadRequest, opts: LoadOptions): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16);
  let ok = 0;
  let sent = 0;
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  const errorSamples: string[] = [];
  const fail = (kind: string, sample: string): void => {
    errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    if (errorSamples.length < MAX_SAMPLES) errorSamples.push(`${kind}: ${sample.slice(0, 300)}`);
  };
  const { method, path, headers, body, check } = request;
  const started = performance.now();
  const end = started + opts.durationMs;

  const worker = async (): Promise<void> => {
    while (sent < opts.maxRequests && performance.now() < end) {
      sent++;
      const t0 = performance.now();
      try {
        const res = await pool.request({ method, path, headers, body });
        const text = await res.body.text();
        const ms = performance.now() - t0;
        const problem = check(res.statusCode, text);
        if (problem !== undefined) fail(problem, text);
        else {
          if (ok === latencies.length) {
            const grown = new Float64Array(latencies.length * 2);
            grown.set(latencies);
            latencies = grown;
          }
          latencies[ok++] = ms;
        }
      } catch (e) {
        const err = e as { code?: string; message?: string };
        fail(err.code ?? 'error', err.message ?? String(e));
      }
    }
  };

  let watchdog: NodeJS.Timeout | undefined;
  const limit = opts.durationMs + opts.requestTimeoutMs + 5_000;
  const timedOut = new Promise<void>((resolve) => {
    watchdog = setTimeout(() => {
      fail('watchdog', `workers still busy ${limit} ms after the start; destroying the pool`);
      void pool.destroy().catch(() => {});
      resolve();
    }, limit);
  });
  await Promise.race([Promise.all(Array.from({ length: opts.concurrency }, worker)), timedOut]);
  clearTimeout(watchdog);
  const elapsedMs = performance.now() - started;

  const sorted = latencies.subarray(0, ok).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    requests: sent,
    ok,
    errors,
    errorKinds,
    errorSamples,
    elapsedMs,
    rps: ok / (elapsedMs / 1000),
    latencyMs: {
      mean: ok ? sum / ok : Number.NaN,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: ok ? sorted[ok - 1] : Number.NaN,
    },
  };
}
