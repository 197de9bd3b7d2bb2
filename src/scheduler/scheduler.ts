/**
 * The in-process scheduler: decides when each task runs and how many run at once (DESIGN §4, seeds §1.3-1.6).
 *
 * - One run per task at a time. A scheduled tick that finds its task running or queued is skipped and logged, never
 *   queued a second time; a manual trigger answers 'running' / 'queued-already'.
 * - A global concurrency limit (default 6, the point at which the seeds say to add workers) with a FIFO queue.
 * - One timer for all tasks, armed for the earliest planned time. Ticks missed while the process was busy or asleep
 *   fire once, and the next planned time is computed from the schedule, never from when a run ended.
 * - stop() aborts a run and leaves the task Stopped until its next scheduled tick (seeds §1.5); suspending a task
 *   stops its ticks but lets a running run finish.
 *
 * The scheduler never executes work itself: `run` does, and must settle soon after its signal aborts. A run that
 * throws or rejects is logged and forgotten; it cannot break later ticks.
 */
import type { TaskSchedule } from '../generated/types.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { nextRunTime } from './schedule.js';

export type Trigger = 'schedule' | 'manual' | 'workflow' | 'startup';
export type Phase = 'Idle' | 'Running' | 'Stopped' | 'Suspended';
export type TriggerResult = 'queued' | 'running' | 'queued-already' | 'suspended' | 'unknown' | 'closed';

export interface ScheduledJob {
  /** The task's namespace/name; also seeds its stagger offset. */
  key: string;
  /** No schedule: the task only runs when triggered. */
  schedule?: TaskSchedule;
  suspended: boolean;
}

export interface RunRequest {
  key: string;
  runTrigger: Trigger;
  /** The scheduled time this run stands for; for manual and other triggers, the time it was requested. */
  plannedTime: Date;
  /** Aborted by stop(), remove() and close(); its reason is a RunCancelledError. */
  signal: AbortSignal;
}

export interface JobState {
  phase: Phase;
  nextRunTime?: Date;
  queued: boolean;
  running?: { trigger: Trigger; plannedTime: Date; startTime: Date };
}

export interface SchedulerOptions {
  /** Runs allowed at once across all tasks; the rest wait in a FIFO queue. Default 6. */
  concurrency?: number;
  /** Executes one run; must settle when req.signal aborts. */
  run: (req: RunRequest) => Promise<void>;
  /** Called whenever a task's phase, nextRunTime, queued flag or running run changes. */
  onStateChange?: (key: string, state: JobState) => void;
  /** Clock, for tests. */
  now?: () => Date;
  log?: Logger;
}

export const DEFAULT_CONCURRENCY = 6;
/** setTimeout stores its delay in an int32; longer delays fire at once, so wait at most this long and re-arm. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export type CancelKind = 'stop' | 'remove' | 'close';

/** The abort reason a run sees: why it was cancelled, so the engine can record a stop as Stopped, not Failed. */
export class RunCancelledError extends Error {
  constructor(readonly kind: CancelKind) {
    super(kind === 'stop' ? 'run stopped' : kind === 'remove' ? 'task removed from the scheduler' : 'scheduler closed');
    this.name = 'RunCancelledError';
  }
}

/** A run that has been accepted: waiting in the queue, then running. `done` resolves when it is over either way. */
interface Ticket {
  entry: Entry;
  trigger: Trigger;
  plannedTime: Date;
  done: Promise<void>;
  finish: () => void;
}

interface ActiveRun {
  ticket: Ticket;
  startTime: Date;
  controller: AbortController;
  settled: Promise<void>;
}

interface Entry {
  key: string;
  schedule?: TaskSchedule;
  suspended: boolean;
  nextRunTime?: Date;
  /** Set by stop(); cleared by the next scheduled tick or the next run that starts. */
  stopped: boolean;
  queued?: Ticket;
  running?: ActiveRun;
  /** Fingerprint of the last state reported, so onStateChange fires on changes only. */
  reported?: string;
}

export class Scheduler {
  private readonly concurrency: number;
  private readonly runFn: SchedulerOptions['run'];
  private readonly onStateChange?: SchedulerOptions['onStateChange'];
  private readonly now: () => Date;
  private readonly log: Logger;

  private readonly jobs = new Map<string, Entry>();
  private readonly queue: Ticket[] = [];
  /** Runs in progress by key, including runs of removed tasks that are still settling: they hold a slot. */
  private readonly active = new Map<string, ActiveRun>();
  private timer?: NodeJS.Timeout;
  private timerAt?: number;
  private started = false;
  private closed = false;

  constructor(opts: SchedulerOptions) {
    const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(`scheduler concurrency must be a whole number >= 1, got ${concurrency}`);
    }
    this.concurrency = concurrency;
    this.runFn = opts.run;
    this.onStateChange = opts.onStateChange;
    this.now = opts.now ?? (() => new Date());
    this.log = (opts.log ?? silentLogger).child({ component: 'scheduler' });
  }

  /**
   * Adds or updates a task. A changed schedule (or a resume) recomputes nextRunTime; suspending drops a queued run
   * and stops ticks, but a running run continues. Throws, changing nothing, when the schedule is invalid.
   */
  upsert(job: ScheduledJob): void {
    const existing = this.jobs.get(job.key);
    const scheduleChanged = !existing || !sameSchedule(existing.schedule, job.schedule);
    const resumed = existing?.suspended === true && !job.suspended;
    // Computed before anything changes (even for a suspended task), so an invalid schedule throws and leaves the
    // previous state in place.
    const next = scheduleChanged || resumed ? this.computeNext(job, this.now()) : undefined;

    const entry: Entry = existing ?? { key: job.key, suspended: false, stopped: false };
    if (!existing) this.jobs.set(job.key, entry);
    entry.schedule = job.schedule;
    entry.suspended = job.suspended;
    // A suspended task has no next run; on resume the next planned time after now is computed afresh.
    if (job.suspended || !job.schedule) entry.nextRunTime = undefined;
    else if (scheduleChanged || resumed) entry.nextRunTime = next;

    if (job.suspended) {
      // A suspended task shows Suspended, not Stopped, and comes back Idle.
      entry.stopped = false;
      if (entry.queued) {
        this.log.info({ task: job.key, trigger: entry.queued.trigger }, 'dropped queued run: task suspended');
        this.dequeue(entry);
      }
    }
    this.report(entry);
    this.arm();
  }

  /** Forgets a task and aborts its run; the run keeps its concurrency slot until it settles. */
  remove(key: string): void {
    const entry = this.jobs.get(key);
    if (!entry) return;
    this.jobs.delete(key);
    if (entry.queued) this.dequeue(entry);
    entry.running?.controller.abort(new RunCancelledError('remove'));
    this.arm();
  }

  /**
   * Runs a task now, outside its schedule. 'queued' means accepted (it may already have started); 'running' and
   * 'queued-already' mean the task already has a run; a suspended task is refused.
   */
  trigger(key: string, trigger: Trigger = 'manual'): TriggerResult {
    if (this.closed) return 'closed';
    const entry = this.jobs.get(key);
    if (!entry) return 'unknown';
    if (entry.suspended) return 'suspended';
    if (entry.running) return 'running';
    if (entry.queued) return 'queued-already';
    this.enqueue(entry, trigger, this.now());
    this.pump();
    return 'queued';
  }

  /**
   * Aborts the task's run (or drops its queued run). The task is Stopped until its next scheduled tick, which then
   * runs normally. False when there was nothing to stop.
   */
  stop(key: string): boolean {
    const entry = this.jobs.get(key);
    if (!entry || (!entry.running && !entry.queued)) return false;
    entry.stopped = true;
    if (entry.queued) {
      this.log.info({ task: key }, 'dropped queued run: stop requested');
      this.dequeue(entry);
    }
    if (entry.running) {
      this.log.info({ task: key }, 'stopping run');
      entry.running.controller.abort(new RunCancelledError('stop'));
    }
    // While the aborted run winds down the phase stays Running; it turns Stopped when the run settles.
    this.report(entry);
    return true;
  }

  /**
   * For `--once`: queues a run of each task now and resolves when all have finished. A task that already has a run
   * is not run twice: that run is awaited instead. Unknown and suspended tasks are skipped with a warning. Never
   * rejects; run outcomes are the run function's to record.
   */
  async runAll(keys: string[], trigger: Trigger): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const key of keys) {
      const result = this.trigger(key, trigger);
      const entry = this.jobs.get(key);
      const ticket = entry?.queued ?? entry?.running?.ticket;
      if (ticket) waits.push(ticket.done);
      else this.log.warn({ task: key, result }, 'runAll: task not run');
    }
    await Promise.all(waits);
  }

  state(key: string): JobState | undefined {
    const entry = this.jobs.get(key);
    return entry ? stateOf(entry) : undefined;
  }

  /** Counts for metrics and readiness: runs in progress and runs waiting for a slot. */
  stats(): { running: number; queued: number } {
    return { running: this.active.size, queued: this.queue.length };
  }

  /** Starts the timer. Triggers and runAll work before start(); only scheduled ticks wait for it. */
  start(): void {
    if (this.closed || this.started) return;
    this.started = true;
    this.arm();
  }

  /** Stops the timer, drops queued runs, aborts running ones and waits until they have settled. */
  async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    for (const ticket of this.queue.slice()) this.dequeue(ticket.entry);
    const settling = [...this.active.values()].map((run) => {
      run.controller.abort(new RunCancelledError('close'));
      return run.settled;
    });
    await Promise.all(settling);
  }

  // ---- runs ----

  private enqueue(entry: Entry, trigger: Trigger, plannedTime: Date): void {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const ticket: Ticket = { entry, trigger, plannedTime, done, finish };
    entry.queued = ticket;
    // A new run supersedes an earlier stop: the task is no longer "stopped until the next timing".
    entry.stopped = false;
    this.queue.push(ticket);
    this.report(entry);
  }

  /** Takes the entry's queued run out of the queue without running it. */
  private dequeue(entry: Entry): void {
    const ticket = entry.queued;
    if (!ticket) return;
    const i = this.queue.indexOf(ticket);
    if (i >= 0) this.queue.splice(i, 1);
    entry.queued = undefined;
    ticket.finish();
    this.report(entry);
  }

  /** Starts queued runs, oldest first, while slots are free. */
  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency) {
      // Skip a task whose removed predecessor is still settling under the same key: one run per key at a time.
      const i = this.queue.findIndex((t) => !this.active.has(t.entry.key));
      if (i < 0) return;
      const [ticket] = this.queue.splice(i, 1);
      this.startRun(ticket);
    }
  }

  private startRun(ticket: Ticket): void {
    const { entry } = ticket;
    const controller = new AbortController();
    const startTime = this.now();
    const run: ActiveRun = { ticket, startTime, controller, settled: Promise.resolve() };
    entry.queued = undefined;
    entry.running = run;
    entry.stopped = false;
    this.active.set(entry.key, run);
    this.log.info(
      { task: entry.key, trigger: ticket.trigger, plannedTime: ticket.plannedTime.toISOString() },
      'run started',
    );
    this.report(entry);

    let promise: Promise<void>;
    try {
      promise = Promise.resolve(
        this.runFn({
          key: entry.key,
          runTrigger: ticket.trigger,
          plannedTime: ticket.plannedTime,
          signal: controller.signal,
        }),
      );
    } catch (err) {
      // A run function that throws before returning its promise is just a failed run.
      promise = Promise.reject(err);
    }
    run.settled = promise.then(
      () => this.finishRun(run, undefined),
      (err: unknown) => this.finishRun(run, err),
    );
  }

  private finishRun(run: ActiveRun, err: unknown): void {
    const { entry } = run.ticket;
    this.active.delete(entry.key);
    const durationMs = this.now().getTime() - run.startTime.getTime();
    const { signal } = run.controller;
    if (signal.aborted) {
      const cancel = signal.reason instanceof RunCancelledError ? signal.reason.kind : 'abort';
      this.log.info({ task: entry.key, durationMs, cancel }, 'run cancelled');
    } else if (err !== undefined) this.log.error({ task: entry.key, durationMs, err }, 'run failed');
    else this.log.info({ task: entry.key, durationMs }, 'run finished');

    // A removed (or removed and re-added) task gets no updates from its old run.
    if (this.jobs.get(entry.key) === entry && entry.running === run) {
      entry.running = undefined;
      this.refreshNext(entry);
      this.report(entry);
    }
    run.ticket.finish();
    this.pump();
    this.arm();
  }

  // ---- timer ----

  /** Points the single timer at the earliest planned time of any unsuspended task. Called after every change. */
  private arm(): void {
    if (!this.started || this.closed) return;
    let earliest: number | undefined;
    for (const entry of this.jobs.values()) {
      const t = entry.suspended ? undefined : entry.nextRunTime?.getTime();
      if (t !== undefined && (earliest === undefined || t < earliest)) earliest = t;
    }
    if (earliest === undefined) {
      this.disarm();
      return;
    }
    if (this.timer && this.timerAt === earliest) return;
    this.disarm();
    const delay = Math.min(Math.max(earliest - this.now().getTime(), 0), MAX_TIMER_DELAY_MS);
    this.timerAt = earliest;
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }

  /** Fires every task whose planned time has come, once each however many ticks were missed, then re-arms. */
  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = undefined;
    if (this.closed) return;
    const now = this.now();
    const due = [...this.jobs.values()]
      .filter((e) => !e.suspended && e.nextRunTime !== undefined && e.nextRunTime.getTime() <= now.getTime())
      // Oldest planned time first, so the FIFO queue follows the schedule; ties keep insertion order (stable sort).
      .sort((a, b) => (a.nextRunTime as Date).getTime() - (b.nextRunTime as Date).getTime());
    for (const entry of due) this.tick(entry, now);
    this.pump();
    // Covers an early wake-up (nothing due) and a capped delay as well.
    this.arm();
  }

  private tick(entry: Entry, now: Date): void {
    const plannedTime = entry.nextRunTime as Date;
    // The next planned time after now, not after plannedTime: missed ticks collapse into this one.
    entry.nextRunTime = this.computeNextSafe(entry, now);
    // "Stopped until the next timing": this tick ends the Stopped phase whether or not it can run.
    entry.stopped = false;
    if (entry.running || entry.queued) {
      this.log.info(
        { task: entry.key, plannedTime: plannedTime.toISOString(), state: entry.running ? 'running' : 'queued' },
        'skipped scheduled tick: the task already has a run',
      );
      this.report(entry);
      return;
    }
    this.enqueue(entry, 'schedule', plannedTime);
  }

  // ---- next run time ----

  private computeNext(job: { key: string; schedule?: TaskSchedule }, after: Date): Date | undefined {
    return job.schedule ? nextRunTime(job.schedule, after, job.key) : undefined;
  }

  /** For ticks and run ends: the schedule was valid at upsert, but a failure here must not kill the timer. */
  private computeNextSafe(entry: Entry, after: Date): Date | undefined {
    try {
      return this.computeNext(entry, after);
    } catch (err) {
      this.log.error({ task: entry.key, err }, 'cannot compute the next run time');
      return undefined;
    }
  }

  /**
   * After a run: the next planned time comes from the schedule, never from when the run ended. A planned time that
   * fell due while the run was ending is kept, so its tick still fires (once) instead of vanishing.
   */
  private refreshNext(entry: Entry): void {
    if (entry.suspended || !entry.schedule) return;
    const now = this.now();
    if (entry.nextRunTime && entry.nextRunTime.getTime() <= now.getTime()) return;
    entry.nextRunTime = this.computeNextSafe(entry, now);
  }

  // ---- state ----

  private report(entry: Entry): void {
    if (!this.onStateChange || this.jobs.get(entry.key) !== entry) return;
    const state = stateOf(entry);
    const fingerprint = JSON.stringify(state);
    if (fingerprint === entry.reported) return;
    entry.reported = fingerprint;
    try {
      this.onStateChange(entry.key, state);
    } catch (err) {
      this.log.error({ task: entry.key, err }, 'onStateChange threw');
    }
  }
}

function stateOf(entry: Entry): JobState {
  const state: JobState = { phase: phaseOf(entry), queued: entry.queued !== undefined };
  if (entry.nextRunTime) state.nextRunTime = entry.nextRunTime;
  if (entry.running) {
    const { ticket, startTime } = entry.running;
    state.running = { trigger: ticket.trigger, plannedTime: ticket.plannedTime, startTime };
  }
  return state;
}

/** Running wins over everything: a suspended or stopped task may still be winding down a run. */
function phaseOf(entry: Entry): Phase {
  if (entry.running) return 'Running';
  if (entry.suspended) return 'Suspended';
  if (entry.stopped) return 'Stopped';
  return 'Idle';
}

function sameSchedule(a: TaskSchedule | undefined, b: TaskSchedule | undefined): boolean {
  return a?.cron === b?.cron && a?.timeZone === b?.timeZone && a?.interval === b?.interval;
}
