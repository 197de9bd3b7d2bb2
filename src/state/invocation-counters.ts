/**
 * The port for status.invocations totals shared by every replica serving the event endpoint (DESIGN §4:
 * ports below their adapters). The invocation service adds each replica's counts through it;
 * `redis/redis-invocation-counters.ts` implements it. Without one, a replica adds its counts to the
 * totals it reads from status.
 */

export interface InvocationTotals {
  total: number;
  failed: number;
  lastTime?: string;
  lastError?: string;
}

/** Cluster-wide invocation totals: adds this replica's counts, answers the totals to record in status. */
export interface InvocationCounters {
  add(task: string, delta: InvocationTotals, seed: InvocationTotals | undefined): Promise<InvocationTotals>;
}
