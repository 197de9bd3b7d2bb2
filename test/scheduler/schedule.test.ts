import { describe, expect, it } from 'vitest';
import {
  MAX_STAGGER_MS,
  nextRunTime,
  schedulePeriod,
  staggerOffset,
  staggerSpread,
} from '../../src/scheduler/schedule.js';

const KEY = 'iga/hr-employees';
const HOUR = 3_600_000;
const at = (iso: string, plusMs = 0) => new Date(Date.parse(iso) + plusMs);

/** Successive planned times: each one is the next after the previous. */
function plan(schedule: Parameters<typeof nextRunTime>[0], from: string, n: number, key = KEY): string[] {
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < n; i++) {
    t = nextRunTime(schedule, t, key) as Date;
    out.push(t.toISOString());
  }
  return out;
}

describe('staggerOffset', () => {
  it('is a fixed function of the key and the period', () => {
    // Pinned: a change here moves every task's planned times, which users would notice.
    expect(staggerOffset(KEY, HOUR)).toBe(266_604);
    expect(staggerOffset(KEY, 30 * 60_000)).toBe(159_962);
    expect(staggerOffset(KEY, 60_000)).toBe(5_332);
    expect(staggerOffset('iga/hr-groups', HOUR)).toBe(181_875);
    expect(staggerOffset(KEY, HOUR)).toBe(staggerOffset(KEY, HOUR));
  });

  it('spreads over min(5 min, 10% of the period)', () => {
    expect(staggerSpread(60_000)).toBe(6_000);
    expect(staggerSpread(30 * 60_000)).toBe(180_000);
    expect(staggerSpread(50 * 60_000)).toBe(300_000);
    expect(staggerSpread(HOUR)).toBe(MAX_STAGGER_MS);
    expect(staggerSpread(86_400_000)).toBe(300_000);
    expect(staggerSpread(0)).toBe(0);
    expect(staggerOffset(KEY, 0)).toBe(0);
  });

  it('stays within [0, spread) and differs between keys', () => {
    // [period, distinct offsets among 200 keys, min, max]: pinned, and the bounds hold for every key.
    const expected = [
      [1_000, 84, 0, 99], // spread 100 ms: 200 keys must collide, but cover the whole window
      [60_000, 198, 12, 5_987],
      [30 * 60_000, 200, 384, 179_619],
      [86_400_000, 200, 641, 299_366],
    ];
    for (const [period, distinct, min, max] of expected) {
      const offsets = Array.from({ length: 200 }, (_, i) => staggerOffset(`ns/task-${i}`, period));
      expect([period, new Set(offsets).size, Math.min(...offsets), Math.max(...offsets)]).toEqual([
        period,
        distinct,
        min,
        max,
      ]);
      expect(max).toBeLessThan(staggerSpread(period));
    }
    expect(staggerOffset('iga/a', HOUR)).toBe(168_432);
    expect(staggerOffset('iga/b', HOUR)).toBe(103_443);
  });
});

describe('nextRunTime with cron', () => {
  it('@hourly in UTC: the next hour plus the offset, strictly after', () => {
    const off = staggerOffset(KEY, HOUR);
    expect(off).toBe(266_604);
    expect(nextRunTime({ cron: '@hourly' }, at('2025-06-01T10:20:00Z'), KEY)).toEqual(at('2025-06-01T11:00:00Z', off));
    // Before the offset has passed, this hour's run is still ahead.
    expect(nextRunTime({ cron: '@hourly' }, at('2025-06-01T10:02:00Z'), KEY)).toEqual(at('2025-06-01T10:00:00Z', off));
    // Exactly at a planned time, the next one is an hour later.
    expect(nextRunTime({ cron: '@hourly' }, at('2025-06-01T10:00:00Z', off), KEY)).toEqual(
      at('2025-06-01T11:00:00Z', off),
    );
    expect(nextRunTime({ cron: '@hourly' }, at('2025-06-01T10:00:00Z', off - 1), KEY)).toEqual(
      at('2025-06-01T10:00:00Z', off),
    );
  });

  it('0 3 * * * in Europe/Helsinki across the spring DST change (03:00 local does not exist)', () => {
    // 2025-03-30: clocks go from 03:00 EET (+2) to 04:00 EEST (+3). The fixed-time job runs at 04:00 local that day.
    expect(plan({ cron: '0 3 * * *', timeZone: 'Europe/Helsinki' }, '2025-03-28T12:00:00Z', 4)).toEqual([
      '2025-03-29T01:04:26.604Z', // 03:00 EET + offset
      '2025-03-30T01:04:26.604Z', // 04:00 EEST (first valid time after the gap) + offset
      '2025-03-31T00:04:26.604Z', // 03:00 EEST + offset
      '2025-04-01T00:04:26.604Z',
    ]);
  });

  it('0 3 * * * in Europe/Helsinki across the autumn DST change (03:00 local happens twice, runs once)', () => {
    expect(plan({ cron: '0 3 * * *', timeZone: 'Europe/Helsinki' }, '2025-10-25T12:00:00Z', 3)).toEqual([
      '2025-10-26T00:04:26.604Z', // first 03:00 (EEST)
      '2025-10-27T01:04:26.604Z', // 03:00 EET
      '2025-10-28T01:04:26.604Z',
    ]);
  });

  it('@daily in Europe/Helsinki: the DST day is 23 hours long', () => {
    const off = staggerOffset(KEY, 86_400_000);
    const times = plan({ cron: '@daily', timeZone: 'Europe/Helsinki' }, '2025-03-29T12:00:00Z', 2);
    expect(times).toEqual([
      at('2025-03-29T22:00:00Z', off).toISOString(),
      at('2025-03-30T21:00:00Z', off).toISOString(),
    ]);
  });

  it('*/30 in Europe/Helsinki keeps a steady 30 minutes in UTC through the spring change', () => {
    expect(staggerOffset(KEY, 30 * 60_000)).toBe(159_962);
    expect(plan({ cron: '*/30 * * * *', timeZone: 'Europe/Helsinki' }, '2025-03-30T00:00:00Z', 5)).toEqual([
      '2025-03-30T00:02:39.962Z',
      '2025-03-30T00:32:39.962Z',
      '2025-03-30T01:02:39.962Z', // 04:00 EEST comes straight after 02:30 EET
      '2025-03-30T01:32:39.962Z',
      '2025-03-30T02:02:39.962Z',
    ]);
  });

  it('measures the cron period as the shortest gap between fires', () => {
    expect(schedulePeriod({ cron: '*/30 * * * *', timeZone: 'Europe/Helsinki' })).toBe(1_800_000);
    expect(schedulePeriod({ cron: '0 9,17 * * *' })).toBe(8 * HOUR);
    expect(schedulePeriod({ cron: '@daily' })).toBe(24 * HOUR);
    expect(schedulePeriod({ interval: '1h30m' })).toBe(5_400_000);
  });

  it('answers undefined for an expression that never fires', () => {
    expect(nextRunTime({ cron: '0 0 30 2 *' }, at('2025-01-01T00:00:00Z'), KEY)).toBeUndefined();
    expect(schedulePeriod({ cron: '0 0 30 2 *' })).toBeUndefined();
  });
});

describe('nextRunTime with interval', () => {
  it('30m is anchored on the epoch plus the offset, not on `after`', () => {
    const off = 159_962; // staggerOffset(KEY, 30m), pinned above
    expect(nextRunTime({ interval: '30m' }, at('2025-06-01T10:17:00Z'), KEY)).toEqual(at('2025-06-01T10:30:00Z', off));
    expect(nextRunTime({ interval: '30m' }, at('2025-06-01T10:31:00Z'), KEY)).toEqual(at('2025-06-01T10:30:00Z', off));
    expect(nextRunTime({ interval: '30m' }, at('2025-06-01T10:30:00Z', off - 1), KEY)).toEqual(
      at('2025-06-01T10:30:00Z', off),
    );
    expect(nextRunTime({ interval: '30m' }, at('2025-06-01T10:30:00Z', off), KEY)).toEqual(
      at('2025-06-01T11:00:00Z', off),
    );
    expect(plan({ interval: '30m' }, '2025-06-01T23:40:00Z', 3)).toEqual([
      '2025-06-02T00:02:39.962Z',
      '2025-06-02T00:32:39.962Z',
      '2025-06-02T01:02:39.962Z',
    ]);
  });

  it('uneven intervals align on multiples of the interval since the epoch', () => {
    const off = staggerOffset(KEY, 5_400_000);
    expect(off).toBe(266_604);
    const t = nextRunTime({ interval: '1h30m' }, at('2025-06-01T10:00:00Z'), KEY) as Date;
    expect(t).toEqual(at('2025-06-01T10:30:00Z', off));
    expect((t.getTime() - off) % 5_400_000).toBe(0);
  });

  it('tasks with the same interval get different planned times', () => {
    const a = nextRunTime({ interval: '1h' }, at('2025-06-01T10:00:00Z'), 'iga/a');
    const b = nextRunTime({ interval: '1h' }, at('2025-06-01T10:00:00Z'), 'iga/b');
    expect(a).toEqual(at('2025-06-01T10:00:00Z', 168_432));
    expect(b).toEqual(at('2025-06-01T10:00:00Z', 103_443));
  });
});

describe('invalid schedules', () => {
  const after = at('2025-06-01T10:00:00Z');
  it.each([
    [{}, 'schedule must set exactly one of cron or interval'],
    [{ cron: '@hourly', interval: '1h' }, 'schedule must set exactly one of cron or interval'],
    [{ interval: '1h', timeZone: 'UTC' }, 'schedule.timeZone is only used with cron'],
    [{ interval: '0m' }, 'schedule.interval "0m" must be longer than 0'],
    [
      { interval: 'hourly' },
      'invalid duration "hourly": unit "hourly" has no number before it; expected numbers with units (ms, s, m, h, d) such as 30s, 5m or 1h30m',
    ],
    [{ cron: '61 * * * *' }, 'invalid cron expression "61 * * * *": Invalid value for minute: 61'],
    [
      { cron: '0 0 * * * *' },
      "invalid cron expression \"0 0 * * * *\": mode '5-part' requires exactly 5 parts, but pattern '0 0 * * * *' has 6 parts.",
    ],
    [
      { cron: '@hourly', timeZone: 'Mars/Olympus_Mons' },
      'unknown time zone "Mars/Olympus_Mons" in schedule.timeZone; use an IANA name such as Europe/Helsinki',
    ],
  ])('%j: %s', (schedule, message) => {
    expect(() => nextRunTime(schedule, after, KEY)).toThrow(new Error(message));
  });

  it('refuses an invalid `after`', () => {
    expect(() => nextRunTime({ interval: '1h' }, new Date(Number.NaN), KEY)).toThrow(
      new Error('nextRunTime: `after` is an invalid Date'),
    );
  });
});
