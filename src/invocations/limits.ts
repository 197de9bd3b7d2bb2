/**
 * Concurrency limits for invocations: per task (its event.maxConcurrency) and global. A full limit
 * refuses at once with Retry-After rather than queueing, so a workflow engine backs off instead of
 * piling up connections: a `busy` refusal for a busy task, `overloaded` when the whole controller is saturated
 * (429 and 503 once `server/` answers them).
 */
import { Refusal } from '../model/errors.js';

/** What a caller is told to wait before retrying a full limit. */
const RETRY_AFTER_SECONDS = 1;

export class InvocationLimits {
  private global = 0;
  private readonly perTask = new Map<string, number>();

  constructor(readonly maxGlobal: number) {}

  /** Takes a slot or throws a `busy` or `overloaded` Refusal; the returned function gives it back. */
  acquire(task: string, maxForTask: number): () => void {
    if (this.global >= this.maxGlobal) {
      throw new Refusal(
        'overloaded',
        `the controller is handling ${this.global} invocations, its limit; retry shortly`,
        RETRY_AFTER_SECONDS,
      );
    }
    const n = this.perTask.get(task) ?? 0;
    if (n >= maxForTask) {
      throw new Refusal(
        'busy',
        `task ${task} is handling ${n} invocations, its event.maxConcurrency; retry shortly`,
        RETRY_AFTER_SECONDS,
      );
    }
    this.global++;
    this.perTask.set(task, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.global--;
      const left = (this.perTask.get(task) ?? 1) - 1;
      if (left === 0) this.perTask.delete(task);
      else this.perTask.set(task, left);
    };
  }

  get inFlight(): number {
    return this.global;
  }
}
