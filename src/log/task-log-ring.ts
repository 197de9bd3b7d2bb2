/**
 * The recent log lines of each task, kept in the controller's memory for `provisio logs TASK` and the status
 * API (ADR 0010): every line that carries a `task` field (the engine's run logger binds it, and so do the
 * controller's lines about a task) is added to that task's ring, the oldest dropped past the bound. Lines are
 * taken after pino's redaction, so what is served is what the process log shows.
 */

export interface TaskLogLine {
  /** Increases by one per kept line across all tasks: `after` a sequence number is what `-f` asks for. */
  seq: number;
  time: string;
  level: string;
  msg: string;
  run?: string;
  /** The line's other fields (component, counts, reason, ...). */
  fields: Record<string, unknown>;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export class TaskLogRing {
  private seq = 0;
  private readonly byTask = new Map<string, TaskLogLine[]>();

  constructor(private readonly perTask = 500) {}

  /** Takes one parsed log line (the logger's onLine); lines without a task are not kept. */
  readonly add = (entry: Record<string, unknown>): void => {
    const { task, run, level, time, msg, ...fields } = entry;
    if (typeof task !== 'string') return;
    let ring = this.byTask.get(task);
    if (!ring) {
      ring = [];
      this.byTask.set(task, ring);
    }
    ring.push({
      seq: ++this.seq,
      time: typeof time === 'string' ? time : new Date().toISOString(),
      level: LEVELS[level as number] ?? String(level),
      msg: typeof msg === 'string' ? msg : '',
      ...(typeof run === 'string' ? { run } : {}),
      fields,
    });
    if (ring.length > this.perTask) ring.splice(0, ring.length - this.perTask);
  };

  /** The kept lines of a task (key NAMESPACE/NAME), optionally of one run and after a sequence number. */
  lines(task: string, filter: { run?: string; after?: number } = {}): TaskLogLine[] {
    return (this.byTask.get(task) ?? []).filter(
      (l) => (!filter.run || l.run === filter.run) && (filter.after === undefined || l.seq > filter.after),
    );
  }

  /** A task that no longer exists has no lines to keep. */
  forget(task: string): void {
    this.byTask.delete(task);
  }
}
