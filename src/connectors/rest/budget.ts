/**
 * The safety threshold (seed 000: "guards against infinite loops"): the most API calls one run may make.
 * Pages and subqueries count; token logins and retries of the same call do not.
 */
import { ExtractError } from '../types.js';

export class CallBudget {
  private count = 0;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.count;
  }

  /** Reserves one call; throws (Incomplete) instead of making the call that would exceed the limit. */
  take(): void {
    if (this.count >= this.limit) {
      throw new ExtractError(
        `safety threshold of ${this.limit} API calls reached before the extract finished; ` +
          'the data is incomplete (raise spec.source.rest.safetyThreshold if the API needs more calls)',
        'Incomplete',
      );
    }
    this.count++;
  }
}
