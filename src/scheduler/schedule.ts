/**
 * Planned run times for a Task.spec.schedule: a cron expression read in an IANA time zone, or a fixed interval.
 *
 * Every planned time carries a per-task stagger offset (seeds §1.3: tasks should not start at the same moment). The
 * offset is derived from a hash of the task key, so it is the same in every process and after every restart, and it
 * lies in [0, spread) with spread = min(5 min, 10% of the schedule's period).
 */
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import type { TaskSchedule } from '../generated/types.js';
import { parseDuration } from '../model/duration.js';

/** Upper bound of the stagger spread, whatever the period. */
export const MAX_STAGGER_MS = 5 * 60_000;
/** Share of the period the stagger may use, so a short schedule is not shifted by most of its period. */
export const STAGGER_FRACTION = 0.1;

/** Width of the window the stagger offset falls in, for a schedule with this period. */
export function staggerSpread(periodMs: number): number {
  if (!Number.isFinite(periodMs) || periodMs <= 0) return 0;
  return Math.floor(Math.min(MAX_STAGGER_MS, periodMs * STAGGER_FRACTION));
}

/** Deterministic offset in [0, staggerSpread(periodMs)) for the task `key` (namespace/name); whole milliseconds. */
export function staggerOffset(key: string, periodMs: number): number {
  const spread = staggerSpread(periodMs);
  if (spread === 0) return 0;
  // sha256 rather than a hand-rolled hash: stable across Node versions and well spread for similar names (a-1, a-2).
  const fraction = createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
  return Math.floor(fraction * spread);
}

/**
 * The schedule's period in ms: the interval, or for cron the shortest gap between consecutive fires. Throws on an
 * invalid schedule; undefined for a cron expression that never fires (such as 0 0 30 2 *).
 */
export function schedulePeriod(schedule: TaskSchedule): number | undefined {
  const plan = compile(schedule);
  return plan.kind === 'interval' ? plan.intervalMs : plan.periodMs;
}

/**
 * The first planned time strictly after `after`, stagger included, or undefined if the schedule never fires again.
 * Throws an Error naming the problem when the schedule is invalid.
 */
export function nextRunTime(schedule: TaskSchedule, after: Date, key: string): Date | undefined {
  const afterMs = after.getTime();
  if (Number.isNaN(afterMs)) throw new Error('nextRunTime: `after` is an invalid Date');
  const plan = compile(schedule);

  if (plan.kind === 'interval') {
    // Anchored on the epoch, not on the last run: planned times are k * interval + offset, so they never drift by
    // the run's duration or by timer lateness, and every process computes the same times.
    const offset = staggerOffset(key, plan.intervalMs);
    const k = Math.floor((afterMs - offset) / plan.intervalMs) + 1;
    return new Date(k * plan.intervalMs + offset);
  }

  if (plan.periodMs === undefined) return undefined;
  const offset = staggerOffset(key, plan.periodMs);
  // fire + offset > after  <=>  fire > after - offset, so ask croner for the first fire after (after - offset).
  let fire = plan.cron.nextRun(new Date(afterMs - offset));
  // croner drops milliseconds from its reference; step on until the strictly-after contract holds.
  while (fire && fire.getTime() + offset <= afterMs) fire = plan.cron.nextRun(fire);
  return fire ? new Date(fire.getTime() + offset) : undefined;
}

type Plan = { kind: 'interval'; intervalMs: number } | { kind: 'cron'; cron: Cron; periodMs: number | undefined };

/**
 * Cron periods are measured from a fixed instant rather than from `after`, so that a task's offset does not change
 * from one fire to the next when the gaps are uneven (0 9,17 * * *) or a DST change makes one day 23 hours long.
 */
const PERIOD_REFERENCE = new Date('2024-01-01T00:00:00Z');
const PERIOD_SAMPLES = 16;

/** Parsed cron expressions by time zone and expression; a controller has few distinct schedules. */
const cronCache = new Map<string, Plan & { kind: 'cron' }>();
const CRON_CACHE_LIMIT = 1000;

function compile(schedule: TaskSchedule): Plan {
  const hasCron = schedule.cron !== undefined;
  const hasInterval = schedule.interval !== undefined;
  if (hasCron === hasInterval) throw new Error('schedule must set exactly one of cron or interval');
  if (hasInterval) {
    if (schedule.timeZone !== undefined) throw new Error('schedule.timeZone is only used with cron');
    const intervalMs = parseDuration(schedule.interval as string);
    if (intervalMs <= 0) throw new Error(`schedule.interval "${schedule.interval}" must be longer than 0`);
    return { kind: 'interval', intervalMs };
  }
  return compileCron(schedule.cron as string, schedule.timeZone ?? 'UTC');
}

function compileCron(expression: string, timeZone: string): Plan & { kind: 'cron' } {
  const cacheKey = `${timeZone}\u0000${expression}`;
  const cached = cronCache.get(cacheKey);
  if (cached) return cached;

  // croner only reports a bad zone when it first computes a time, with a long message; check it up front.
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`unknown time zone "${timeZone}" in schedule.timeZone; use an IANA name such as Europe/Helsinki`);
  }
  let cron: Cron;
  try {
    // 5-part mode: the schema promises five fields (or a nickname); croner would otherwise also take seconds/years.
    // No callback, so croner only computes times and never starts a timer of its own.
    cron = new Cron(expression, { timezone: timeZone, mode: '5-part' });
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/^CronPattern:\s*/, '');
    throw new Error(`invalid cron expression "${expression}": ${reason}`);
  }
  const fires = cron.nextRuns(PERIOD_SAMPLES, PERIOD_REFERENCE);
  let periodMs: number | undefined;
  for (let i = 1; i < fires.length; i++) {
    const gap = fires[i].getTime() - fires[i - 1].getTime();
    if (periodMs === undefined || gap < periodMs) periodMs = gap;
  }
  const plan = { kind: 'cron' as const, cron, periodMs };
  if (cronCache.size >= CRON_CACHE_LIMIT) cronCache.clear();
  cronCache.set(cacheKey, plan);
  return plan;
}
