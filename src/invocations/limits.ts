/**
 * Concurrency limits for invocations: per task (its event.maxConcurrency) and global. A full limit
 * refuses at once with Retry-After rather than queueing, so a workflow engine backs off instead of
 * piling up connections: 429 for a busy task, 503 when the whole controller is saturated.
 */
import { httpError } from '../server/http-server.js';

export class InvocationLimits {
  private global = 0;
  private readonly perTask = new Map<string, number>();

  constructor(readonly maxGlobal: number) {}

  /** Takes a slot or throws 429/503; the returned function gives it back. */
  acquire(task: string, maxForTask: number): () => void {
    if (this.global >= this.maxGlobal) {
      throw httpError(503, `the controller is handling ${this.global} invocations, its limit; retry shortly`, {
        'retry-after': '1',
      });
    }
    const n = this.perTask.get(task) ?? 0;
    if (n >= maxForTask) {
      throw httpError(429, `task ${task} is handling ${n} invocations, its event.maxConcurrency; retry shortly`, {
        'retry-after': '1',
      });
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
