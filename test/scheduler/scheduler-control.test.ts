import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { staggerOffset } from '../../src/scheduler/schedule.js';
import { RunCancelledError } from '../../src/scheduler/scheduler.js';
import { createHarness, type Harness } from './harness.js';

const KEY = 'iga/hr-employees';
const at = (iso: string, plusMs = 0) => new Date(Date.parse(iso) + plusMs);
const advanceTo = (iso: string) => vi.advanceTimersByTimeAsync(Date.parse(iso) - Date.now());
const flush = () => vi.advanceTimersByTimeAsync(0);
const keys = (n: number) => Array.from({ length: n }, (_, i) => `ns/t${i}`);

/** Finishes the oldest unfinished run, then lets the scheduler start the next ones. */
async function finishOldest(h: Harness): Promise<void> {
  const run = h.runs.find((r) => !r.settled);
  if (!run) throw new Error('no unfinished run');
  run.finish();
  await flush();
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(at('2025-06-01T10:17:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('concurrency', () => {
  it('10 triggered tasks with concurrency 3: never more than 3 at once, FIFO, all complete', async () => {
    const h = createHarness({ concurrency: 3 });
    for (const key of keys(10)) h.scheduler.upsert({ key, suspended: false });
    expect(keys(10).map((key) => h.scheduler.trigger(key))).toEqual(Array(10).fill('queued'));

    expect(h.runs.map((r) => r.req.key)).toEqual(['ns/t0', 'ns/t1', 'ns/t2']);
    expect(h.scheduler.stats()).toEqual({ running: 3, queued: 7 });
    expect(h.scheduler.state('ns/t3')).toEqual({ phase: 'Idle', queued: true });
    expect(h.scheduler.state('ns/t0')).toEqual({
      phase: 'Running',
      queued: false,
      running: { trigger: 'manual', plannedTime: at('2025-06-01T10:17:00Z'), startTime: at('2025-06-01T10:17:00Z') },
    });

    for (let i = 0; i < 10; i++) {
      await finishOldest(h);
      expect(h.scheduler.stats().running).toBe(Math.min(3, 9 - i));
    }
    expect(h.runs.map((r) => r.req.key)).toEqual(keys(10));
    expect(h.completed).toEqual(keys(10));
    expect(h.maxConcurrent()).toBe(3);
    expect(h.scheduler.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('10 scheduled tasks due at once run oldest planned time first, 3 at a time', async () => {
    // The process was frozen for an hour: when the timer fires, every task's 11:00 tick is due together.
    let frozenMs = 0;
    const h = createHarness({ concurrency: 3, now: () => new Date(Date.now() + frozenMs) });
    for (const key of keys(10)) h.scheduler.upsert({ key, schedule: { interval: '1h' }, suspended: false });
    h.scheduler.start();
    const byPlannedTime = keys(10).sort((a, b) => staggerOffset(a, 3_600_000) - staggerOffset(b, 3_600_000));
    expect(byPlannedTime).toEqual([
      'ns/t3',
      'ns/t9',
      'ns/t8',
      'ns/t5',
      'ns/t2',
      'ns/t6',
      'ns/t1',
      'ns/t4',
      'ns/t0',
      'ns/t7',
    ]);

    frozenMs = 3_600_000;
    await vi.advanceTimersByTimeAsync(Date.parse('2025-06-01T11:01:23.774Z') - Date.now()); // t3's planned time
    expect(h.runs.map((r) => r.req.key)).toEqual(['ns/t3', 'ns/t9', 'ns/t8']);
    expect(h.scheduler.stats()).toEqual({ running: 3, queued: 7 });
    while (h.runs.some((r) => !r.settled)) await finishOldest(h);

    expect(h.runs.map((r) => r.req.key)).toEqual(byPlannedTime);
    expect(h.runs.map((r) => r.req.plannedTime)).toEqual(
      byPlannedTime.map((key) => at('2025-06-01T11:00:00Z', staggerOffset(key, 3_600_000))),
    );
    expect(h.completed).toHaveLength(10);
    expect(h.maxConcurrent()).toBe(3);
  });

  it('allows 6 runs at once by default', () => {
    const h = createHarness();
    for (const key of keys(8)) {
      h.scheduler.upsert({ key, suspended: false });
      h.scheduler.trigger(key);
    }
    expect(h.scheduler.stats()).toEqual({ running: 6, queued: 2 });
  });
});

describe('trigger', () => {
  it('answers queued, running, queued-already, suspended, unknown and closed', async () => {
    const h = createHarness({ concurrency: 1 });
    h.scheduler.upsert({ key: 'iga/a', suspended: false });
    h.scheduler.upsert({ key: 'iga/b', suspended: false });
    h.scheduler.upsert({ key: 'iga/c', suspended: true });

    expect(h.scheduler.trigger('iga/a', 'workflow')).toBe('queued');
    expect(h.scheduler.trigger('iga/a')).toBe('running');
    expect(h.scheduler.trigger('iga/b')).toBe('queued');
    expect(h.scheduler.trigger('iga/b')).toBe('queued-already');
    expect(h.scheduler.trigger('iga/c')).toBe('suspended');
    expect(h.scheduler.trigger('iga/nope')).toBe('unknown');
    expect(h.runs.map((r) => [r.req.key, r.req.runTrigger])).toEqual([['iga/a', 'workflow']]);
    expect(h.scheduler.state('iga/b')).toEqual({ phase: 'Idle', queued: true });

    await finishOldest(h);
    expect(h.runs.map((r) => [r.req.key, r.req.runTrigger, r.req.plannedTime])).toEqual([
      ['iga/a', 'workflow', at('2025-06-01T10:17:00Z')],
      ['iga/b', 'manual', at('2025-06-01T10:17:00Z')],
    ]);
    await h.scheduler.close();
    expect(h.scheduler.trigger('iga/a')).toBe('closed');
  });

  it('a manual run does not move the schedule', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: false });
    h.scheduler.start();
    await advanceTo('2025-06-01T10:20:00Z');
    h.scheduler.trigger(KEY);
    await advanceTo('2025-06-01T10:25:00Z');
    await finishOldest(h);
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Idle',
      queued: false,
      nextRunTime: at('2025-06-01T10:32:39.962Z'),
    });
  });

  it('a scheduled tick for a queued task is skipped; the queued run runs once', async () => {
    const h = createHarness({ concurrency: 1 });
    const key = 'iga/minutely';
    const off = staggerOffset(key, 60_000);
    h.scheduler.upsert({ key: 'iga/long', suspended: false });
    h.scheduler.upsert({ key, schedule: { interval: '1m' }, suspended: false });
    h.scheduler.start();
    h.scheduler.trigger('iga/long');

    await vi.advanceTimersByTimeAsync(off);
    expect(h.scheduler.state(key)).toEqual({
      phase: 'Idle',
      queued: true,
      nextRunTime: at('2025-06-01T10:18:00Z', off),
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.logs.filter((l) => l.msg === 'skipped scheduled tick: the task already has a run')).toEqual([
      expect.objectContaining({
        task: key,
        state: 'queued',
        plannedTime: at('2025-06-01T10:18:00Z', off).toISOString(),
      }),
    ]);

    await finishOldest(h);
    expect(h.runs.map((r) => [r.req.key, r.req.plannedTime])).toEqual([
      ['iga/long', at('2025-06-01T10:17:00Z')],
      [key, at('2025-06-01T10:17:00Z', off)],
    ]);
  });
});

describe('stop', () => {
  it('aborts the run; the task is Stopped until its next tick, which runs normally', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: false });
    h.scheduler.start();
    await advanceTo('2025-06-01T10:32:39.962Z');
    const [run] = h.runs;

    await advanceTo('2025-06-01T10:35:00Z');
    expect(h.scheduler.stop(KEY)).toBe(true);
    expect(run.req.signal.aborted).toBe(true);
    expect(run.req.signal.reason).toBeInstanceOf(RunCancelledError);
    expect(run.req.signal.reason).toMatchObject({ kind: 'stop', message: 'run stopped' });
    await flush();
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Stopped',
      queued: false,
      nextRunTime: at('2025-06-01T11:02:39.962Z'),
    });
    expect(h.logs.find((l) => l.msg === 'run cancelled')).toMatchObject({ task: KEY, cancel: 'stop' });

    // Stopped survives until the next tick, then the task is Idle and that tick runs.
    await advanceTo('2025-06-01T11:02:39.961Z');
    expect(h.scheduler.state(KEY)?.phase).toBe('Stopped');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.runs).toHaveLength(2);
    expect(h.runs[1].req.plannedTime).toEqual(at('2025-06-01T11:02:39.962Z'));
    await finishOldest(h);
    expect(h.phases(KEY)).toEqual(['Idle', 'Idle+queued', 'Running', 'Stopped', 'Idle+queued', 'Running', 'Idle']);
  });

  it('drops a queued run; answers false when there is nothing to stop', async () => {
    const h = createHarness({ concurrency: 1 });
    h.scheduler.upsert({ key: 'iga/a', suspended: false });
    h.scheduler.upsert({ key: 'iga/b', suspended: false });
    expect(h.scheduler.stop('iga/a')).toBe(false);
    expect(h.scheduler.stop('iga/nope')).toBe(false);
    h.scheduler.trigger('iga/a');
    h.scheduler.trigger('iga/b');

    expect(h.scheduler.stop('iga/b')).toBe(true);
    expect(h.scheduler.state('iga/b')).toEqual({ phase: 'Stopped', queued: false });
    await finishOldest(h);
    expect(h.runs.map((r) => r.req.key)).toEqual(['iga/a']);
    expect(h.scheduler.state('iga/a')).toEqual({ phase: 'Idle', queued: false });
  });

  it('stays Running until the aborted run has settled', async () => {
    const h = createHarness({ settleDelayMs: 2_000 });
    h.scheduler.upsert({ key: KEY, suspended: false });
    h.scheduler.trigger(KEY);
    h.scheduler.stop(KEY);
    expect(h.scheduler.state(KEY)?.phase).toBe('Running');
    expect(h.scheduler.trigger(KEY)).toBe('running');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(h.scheduler.state(KEY)).toEqual({ phase: 'Stopped', queued: false });
  });
});

describe('suspend and resume', () => {
  it('a suspended task has no ticks and refuses triggers; resuming plans from now', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: true });
    h.scheduler.start();
    expect(h.scheduler.state(KEY)).toEqual({ phase: 'Suspended', queued: false });
    expect(vi.getTimerCount()).toBe(0);
    await advanceTo('2025-06-01T12:17:00Z');
    expect(h.runs).toHaveLength(0);
    expect(h.scheduler.trigger(KEY)).toBe('suspended');

    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: false });
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Idle',
      queued: false,
      nextRunTime: at('2025-06-01T12:32:39.962Z'),
    });
    await advanceTo('2025-06-01T12:32:39.962Z');
    expect(h.runs.map((r) => r.req.plannedTime)).toEqual([at('2025-06-01T12:32:39.962Z')]);
  });

  it('suspending lets a running run finish, then shows Suspended', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: false });
    h.scheduler.start();
    await advanceTo('2025-06-01T10:32:39.962Z');
    h.scheduler.upsert({ key: KEY, schedule: { interval: '30m' }, suspended: true });
    expect(h.runs[0].req.signal.aborted).toBe(false);
    // Still Running, but with no next run while suspended.
    expect(h.scheduler.state(KEY)).toEqual({
      phase: 'Running',
      queued: false,
      running: {
        trigger: 'schedule',
        plannedTime: at('2025-06-01T10:32:39.962Z'),
        startTime: at('2025-06-01T10:32:39.962Z'),
      },
    });

    await advanceTo('2025-06-01T11:10:00Z');
    expect(h.runs).toHaveLength(1);
    await finishOldest(h);
    expect(h.scheduler.state(KEY)).toEqual({ phase: 'Suspended', queued: false });
    expect(h.completed).toEqual([KEY]);
  });

  it('suspending drops a queued run', async () => {
    const h = createHarness({ concurrency: 1 });
    h.scheduler.upsert({ key: 'iga/a', suspended: false });
    h.scheduler.upsert({ key: 'iga/b', suspended: false });
    h.scheduler.trigger('iga/a');
    h.scheduler.trigger('iga/b');
    h.scheduler.upsert({ key: 'iga/b', suspended: true });
    expect(h.scheduler.state('iga/b')).toEqual({ phase: 'Suspended', queued: false });
    await finishOldest(h);
    expect(h.runs.map((r) => r.req.key)).toEqual(['iga/a']);
  });
});

describe('runAll', () => {
  it('runs each task once and resolves when all have finished', async () => {
    const h = createHarness({ concurrency: 2 });
    for (const key of ['iga/a', 'iga/b', 'iga/c']) h.scheduler.upsert({ key, suspended: false });
    h.scheduler.upsert({ key: 'iga/s', suspended: true });
    h.scheduler.trigger('iga/c'); // already running: awaited, not run twice

    let resolved = false;
    const all = h.scheduler.runAll(['iga/a', 'iga/b', 'iga/c', 'iga/s', 'iga/nope'], 'startup').then(() => {
      resolved = true;
    });
    expect(h.runs.map((r) => [r.req.key, r.req.runTrigger])).toEqual([
      ['iga/c', 'manual'],
      ['iga/a', 'startup'],
    ]);
    expect(h.logs.filter((l) => l.msg === 'runAll: task not run').map((l) => [l.task, l.result])).toEqual([
      ['iga/s', 'suspended'],
      ['iga/nope', 'unknown'],
    ]);

    await finishOldest(h);
    await finishOldest(h);
    expect(resolved).toBe(false);
    await finishOldest(h);
    await all;
    expect(resolved).toBe(true);
    expect(h.runs.map((r) => r.req.key)).toEqual(['iga/c', 'iga/a', 'iga/b']);
  });

  it('resolves even when runs fail', async () => {
    const h = createHarness();
    h.scheduler.upsert({ key: 'iga/a', suspended: false });
    const all = h.scheduler.runAll(['iga/a'], 'manual');
    h.runs[0].fail(new Error('extract failed'));
    await expect(all).resolves.toBeUndefined();
    expect(h.logs.find((l) => l.msg === 'run failed')).toMatchObject({
      task: 'iga/a',
      err: { message: 'extract failed' },
    });
  });
});

describe('remove and close', () => {
  it('remove aborts the run, forgets the task and holds the slot until the run settles', async () => {
    const h = createHarness({ concurrency: 1, settleDelayMs: 1_000 });
    h.scheduler.upsert({ key: 'iga/a', schedule: { interval: '30m' }, suspended: false });
    h.scheduler.upsert({ key: 'iga/b', suspended: false });
    h.scheduler.start();
    h.scheduler.trigger('iga/a');
    h.scheduler.trigger('iga/b');
    const eventsBefore = h.events.filter((e) => e.key === 'iga/a').length;

    h.scheduler.remove('iga/a');
    expect(h.runs[0].req.signal.reason).toMatchObject({ kind: 'remove', message: 'task removed from the scheduler' });
    expect(h.scheduler.state('iga/a')).toBeUndefined();
    expect(h.scheduler.trigger('iga/a')).toBe('unknown');
    expect(vi.getTimerCount()).toBe(1); // only the harness's settle delay: no schedule timer is left
    expect(h.scheduler.stats()).toEqual({ running: 1, queued: 1 });

    await vi.advanceTimersByTimeAsync(999);
    expect(h.runs.map((r) => r.req.key)).toEqual(['iga/a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.runs.map((r) => r.req.key)).toEqual(['iga/a', 'iga/b']);
    expect(h.events.filter((e) => e.key === 'iga/a')).toHaveLength(eventsBefore);
  });

  it('close aborts running runs, drops queued ones, stops the timer and waits for runs to settle', async () => {
    const h = createHarness({ concurrency: 2, settleDelayMs: 1_000 });
    for (const key of ['iga/a', 'iga/b', 'iga/c']) {
      h.scheduler.upsert({ key, schedule: { interval: '30m' }, suspended: false });
    }
    h.scheduler.start();
    for (const key of ['iga/a', 'iga/b', 'iga/c']) h.scheduler.trigger(key);
    expect(h.runs).toHaveLength(2);

    let closed = false;
    const closing = h.scheduler.close().then(() => {
      closed = true;
    });
    expect(h.runs.map((r) => (r.req.signal.reason as RunCancelledError).kind)).toEqual(['close', 'close']);
    expect(h.scheduler.state('iga/c')).toEqual({
      phase: 'Idle',
      queued: false,
      nextRunTime: at('2025-06-01T10:30:00Z', staggerOffset('iga/c', 1_800_000)),
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(closed).toBe(true);
    expect(h.completed).toEqual(['iga/a', 'iga/b']);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(h.runs).toHaveLength(2);
  });
});
