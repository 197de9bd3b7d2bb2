/**
 * A Scheduler wired to controllable runs, recorded state changes and captured logs, for fake-timer tests.
 */
import { pino } from 'pino';
import { type JobState, type RunRequest, Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';

export interface RunHandle {
  req: RunRequest;
  /** Ends the run successfully. */
  finish(): void;
  /** Ends the run with an error. */
  fail(err: Error): void;
  settled: boolean;
}

export interface Harness {
  scheduler: Scheduler;
  /** Every run started, in start order. */
  runs: RunHandle[];
  /** Keys of the runs that finished or failed, in order. */
  completed: string[];
  /** Every onStateChange call. */
  events: Array<{ key: string; state: JobState }>;
  /** Parsed log lines. */
  logs: Array<Record<string, unknown>>;
  /** Most runs in progress at any moment. */
  maxConcurrent(): number;
  /** The phases reported for one key, in order. */
  phases(key: string): string[];
  /** The runs of one key. */
  runsOf(key: string): RunHandle[];
}

export interface HarnessOptions extends Partial<SchedulerOptions> {
  /** How long a run takes to settle after its signal aborts (default: at once). */
  settleDelayMs?: number;
}

export function createHarness({ settleDelayMs, ...options }: HarnessOptions = {}): Harness {
  const runs: RunHandle[] = [];
  const completed: string[] = [];
  const events: Harness['events'] = [];
  const logs: Harness['logs'] = [];
  let current = 0;
  let max = 0;

  // A plain { write } destination is written synchronously, so log lines are there as soon as the scheduler logs.
  const log = pino({ level: 'debug', base: {} }, { write: (line: string) => logs.push(JSON.parse(line)) });

  const run = (req: RunRequest) =>
    new Promise<void>((resolve, reject) => {
      current++;
      max = Math.max(max, current);
      const handle: RunHandle = {
        req,
        settled: false,
        finish: () => end(() => resolve()),
        fail: (err) => end(() => reject(err)),
      };
      function end(settle: () => void) {
        if (handle.settled) return;
        handle.settled = true;
        current--;
        completed.push(req.key);
        settle();
      }
      // Honour the contract: a run settles when its signal aborts.
      const onAbort = () => handle.fail(req.signal.reason as Error);
      req.signal.addEventListener(
        'abort',
        () => (settleDelayMs === undefined ? onAbort() : setTimeout(onAbort, settleDelayMs)),
        { once: true },
      );
      runs.push(handle);
    });

  const scheduler = new Scheduler({
    run,
    onStateChange: (key, state) => events.push({ key, state }),
    now: () => new Date(Date.now()),
    log,
    ...options,
  });
  return {
    scheduler,
    runs,
    completed,
    events,
    logs,
    maxConcurrent: () => max,
    phases: (key) => events.filter((e) => e.key === key).map((e) => e.state.phase + (e.state.queued ? '+queued' : '')),
    runsOf: (key) => runs.filter((r) => r.req.key === key),
  };
}
