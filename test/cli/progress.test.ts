/** The progress line of `trigger --wait`: a bar with the total when known, else a spinner, within the terminal. */
import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';

const width = (s: string) => [...s].length;

describe('progressLine', () => {
  it('shows a bar, the share and the total when the source announced one', () => {
    const line = progressLine({ records: 250, cards: 240, total: 1000, phase: 'running', frame: 0 });
    expect(line).toBe('[██████░░░░░░░░░░░░░░░░░░░]  25% 250/1000 records | 240 cards written | running');
    expect(width(line)).toBeLessThan(80);
  });

  it('shows a turning spinner with the counts when the total is unknown', () => {
    expect(progressLine({ records: 1200, cards: 3, phase: 'running', frame: 0 })).toBe(
      '⠋ 1200 records read | 3 cards written | running',
    );
    expect(progressLine({ records: 1200, cards: 3, phase: 'running', frame: 1 })).toMatch(/^⠙ /);
  });

  it('never reaches the last column, however large the numbers or narrow the terminal', () => {
    const huge = { records: 123_456_789_012, cards: 123_456_789_012, phase: 'running', frame: 3 };
    for (const columns of [80, 60, 40]) {
      expect(width(progressLine({ ...huge, total: 999_999_999_999 }, columns))).toBeLessThan(columns);
      expect(width(progressLine(huge, columns))).toBeLessThan(columns);
    }
    expect(width(progressLine({ ...huge, total: 999_999_999_999 }))).toBe(79);
  });
});
