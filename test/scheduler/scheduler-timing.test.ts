import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { staggerOffset } from '../../src/scheduler/schedule.js';
import { MAX_TIMER_DELAY_MS, type RunRequest, Scheduler } from '../../src/scheduler/scheduler.js';
import { createHarness } from './harness.js';

const KEY = 'iga/hr-employees';
const at = (iso: string, plusMs = 0) => new Date(Date.parse(iso) + plusMs);
/** Advances the fake clock to an absolute time, firing timers and flushing promises on the way. */
const advanceTo = (iso: string) => vi.advanceTimersByTimeAsync(Date.parse(iso) - Date.now());
const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(at('2025-06-01T10:17:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('scheduled ticks', () => {
  it('runs an interval task at its anchored, staggered planned time', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: false });
    // staggerOffset(KEY, 30m) = 159_962 ms (pinned in schedule.test.ts).
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Idle',
      queued: false,
      nextRunTime: at('2025-06-01T10:32:39.962Z'),
    });
    h.scheduler.start();
    expect(vi.getTimerCount()).toBe(1);

    await advanceTo('2025-06-01T10:32:39.961Z');
    expect(h.runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.runs).toHaveLength(1);
    expect(h.runs[0].req).toMatchObject({
      key: KEY,
      runTrigger: 'schedule',
      plannedTime: at('2025-06-01T10:32:39.962Z'),
    });
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Running',
      queued: false,
      nextRunTime: at('2025-06-01T11:02:39.962Z'),
      running: {
        trigger: 'schedule',
        plannedTime: at('2025-06-01T10:32:39.962Z'),
        startTime: at('2025-06-01T10:32:39.962Z'),
      },
    });

    await advanceTo('2025-06-01T10:40:00Z');
    h.runs[0].finish();
    await flush();
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Idle',
      queued: false,
      nextRunTime: at('2025-06-01T11:02:39.962Z'),
    });
    expect(h.phases(KEY)).toEqual(['Idle', 'Idle+queued', 'Running', 'Idle']);
    expect(h.logs.find((l) => l.msg === 'run finished')).toMatchObject({
      component: 'scheduler',
      task: KEY,
      durationMs: 440_038,
    });
  });

  it('runs a cron task in its time zone, stagger included', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: KEY, schedule: { cron: '0 3 * * *', timeZone: 'Europe/Helsinki' }, suspended: false });
    // 03:00 EEST on 2 June is 00:00 UTC, plus staggerOffset(KEY, 1 day) = 266_604 ms.
    expect(h.scheduler.state(KEY)?.nextRunTime).toEqual(at('2025-06-02T00:04:26.604Z'));
    h.scheduler.start();
    await advanceTo('2025-06-02T00:04:26.604Z');
    expect(h.runs.map((r) => r.req.plannedTime)).toEqual([at('2025-06-02T00:04:26.604Z')]);
    expect(h.scheduler.state(KEY)?.nextRunTime).toEqual(at('2025-06-03T00:04:26.604Z'));
  });

  it('skips a tick while the task runs, and plans from the schedule, not from the run end', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: false });
    h.scheduler.start();
    await advanceTo('2025-06-01T10:32:39.962Z');
    expect(h.runs).toHaveLength(1);

    // The run overruns the 11:02:39.962 tick: skipped and logged, not queued.
    await advanceTo('2025-06-01T11:02:39.962Z');
    expect(h.runs).toHaveLength(1);
    expect(h.scheduler.state(KEY)).toMatchObject({
      phase: 'Running',
      queued: false,
      nextRunTime: at('2025-06-01T11:32:39.962Z'),
    });
    expect(h.logs.filter((l) => l.msg === 'skipped scheduled tick: the task already has a run')).toEqual([
      expect.objectContaining({ level: 30, task: KEY, plannedTime: '2025-06-01T11:02:39.962Z', state: 'running' }),
    ]);

    // Ending at 11:10 does not move the next run to 11:40.
    await advanceTo('2025-06-01T11:10:00Z');
    h.runs[0].finish();
    await flush();
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Idle',
      queued: false,
      nextRunTime: at('2025-06-01T11:32:39.962Z'),
    });
    await advanceTo('2025-06-01T11:32:39.962Z');
    expect(h.runs.map((r) => r.req.plannedTime)).toEqual([
      at('2025-06-01T10:32:39.962Z'),
      at('2025-06-01T11:32:39.962Z'),
    ]);
  });

  it('fires ticks missed while the process was busy once, not in a burst', async () => {
    // The process freezes for 10 min 5 s: the scheduler's clock jumps past ten planned times before its timer fires.
    let frozenMs = 0;
    const h = createHarness({ now: () => new Date(Date.now() + frozenMs) });
    const key = 'iga/minutely';
    const off = staggerOffset(key, 60_000);
    h.scheduler.upsert({ key, schedule: { interval: '1m' }, suspended: false });
    const first = at('2025-06-01T10:17:00Z', off);
    expect(h.scheduler.state(key)?.nextRunTime).toEqual(first);
    h.scheduler.start();

    frozenMs = 10 * 60_000 + 5_000;
    await vi.advanceTimersByTimeAsync(off);
    expect(h.runs).toHaveLength(1);
    expect(h.runs[0].req.plannedTime).toEqual(first);
    // Next planned time is the first slot after the (late) now: 11 slots on, not the one after `first`.
    expect(h.scheduler.state(key)?.nextRunTime).toEqual(at('2025-06-01T10:28:00Z', off));
    h.runs[0].finish();
    await flush();
    expect(h.runs).toHaveLength(1);
  });

  it('a run that throws or rejects is logged and later ticks still run', async () => {
    const key = 'iga/flaky';
    const planned: Date[] = [];
    const h = createHarness({
      run: (req: RunRequest) => {
        planned.push(req.plannedTime);
        if (planned.length === 1) throw new Error('thrown before returning a promise');
        if (planned.length === 2) return Promise.reject(new Error('rejected'));
        return Promise.resolve();
      },
    });
    const off = staggerOffset(key, 60_000);
    h.scheduler.upsert({ key, schedule: { interval: '1m' }, suspended: false });
    h.scheduler.start();
    await vi.advanceTimersByTimeAsync(off + 2 * 60_000);
    expect(planned).toEqual([
      at('2025-06-01T10:17:00Z', off),
      at('2025-06-01T10:18:00Z', off),
      at('2025-06-01T10:19:00Z', off),
    ]);
    expect(h.logs.filter((l) => l.msg === 'run failed').map((l) => (l.err as { message: string }).message)).toEqual([
      'thrown before returning a promise',
      'rejected',
    ]);
    expect(h.logs.filter((l) => l.msg === 'run finished')).toHaveLength(1);
    expect(h.scheduler.state(key)).toEqual({
      phase: 'Idle',
      queued: false,
      nextRunTime: at('2025-06-01T10:20:00Z', off),
    });
  });

  it('caps the timer at 2^31-1 ms and re-arms until a far planned time', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: KEY, schedule: { cron: '0 0 1 1 *' }, suspended: false });
    expect(h.scheduler.state(KEY)?.nextRunTime).toEqual(at('2026-01-01T00:04:26.604Z'));
    h.scheduler.start();
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS);
    expect(h.runs).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(1);
    await advanceTo('2026-01-01T00:04:26.603Z');
    expect(h.runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.runs.map((r) => r.req.plannedTime)).toEqual([at('2026-01-01T00:04:26.604Z')]);
  });

  it('keeps one timer for all tasks, pointed at the earliest planned time', async () => {
    const h = createHarness();
    h.scheduler.start();
    expect(vi.getTimerCount()).toBe(0);
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      h.scheduler.upsert({ key: `iga/${name}`, schedule: { interval: '1h' }, suspended: false });
    }
    expect(vi.getTimerCount()).toBe(1);
    // iga/b has the smallest offset of the five within the hour (103_443 ms).
    await advanceTo('2025-06-01T11:01:43.443Z');
    expect(h.runs.map((r) => [r.req.key, r.req.plannedTime])).toEqual([['iga/b', at('2025-06-01T11:01:43.443Z')]]);
    expect(vi.getTimerCount()).toBe(1);
  });
});

describe('upsert', () => {
  it('recomputes nextRunTime when the schedule changes, keeps it otherwise, and refuses an invalid schedule', async () => {
    const h = createHarness();
    h.scheduler.start();
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: false });
    expect(h.scheduler.state(KEY)?.nextRunTime).toEqual(at('2025-06-01T10:32:39.962Z'));
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: false });
    expect(h.events).toHaveLength(1);

    h.scheduler.upsert({ key: KEY, schedule: { cron: '@hourly' }, suspended: false });
    expect(h.scheduler.state(KEY)?.nextRunTime).toEqual(at('2025-06-01T11:04:26.604Z'));
    expect(h.events.map((e) => e.state.nextRunTime)).toEqual([
      at('2025-06-01T10:32:39.962Z'),
      at('2025-06-01T11:04:26.604Z'),
    ]);

    expect(() => h.scheduler.upsert({ key: KEY, schedule: { cron: '61 * * * *' }, suspended: false })).toThrow(
      new Error('invalid cron expression "61 * * * *": Invalid value for minute: 61'),
    );
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Idle',
      queued: false,
      nextRunTime: at('2025-06-01T11:04:26.604Z'),
    });

    // The timer followed the change: nothing at the old 10:32 time, a run at the new one.
    await advanceTo('2025-06-01T11:04:26.603Z');
    expect(h.runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.runs.map((r) => r.req.plannedTime)).toEqual([at('2025-06-01T11:04:26.604Z')]);
  });

  it('a task without a schedule has no nextRunTime and only runs when triggered', async () => {
    const h = createHarness();
    h.scheduler.start();
    h.scheduler.upsert({ key: KEY, suspended: false });
    expect(h.scheduler.state(KEY)).toEqual({ phase: 'Idle', queued: false });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(h.runs).toHaveLength(0);
  });

  it('refuses a concurrency below 1', () => {
    expect(() => new Scheduler({ concurrency: 0, run: async () => {} })).toThrow(
      new Error('scheduler concurrency must be a whole number >= 1, got 0'),
    );
  });
});
