/**
 * The one-line progress of `trigger --wait` on a terminal: a bar with the total when the source announced one,
 * otherwise a spinner with the counts so far. Never wider than the terminal (80 columns when unknown), so the
 * line is redrawn in place instead of wrapping.
 */
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  records: number;
  cards: number;
  /** Records the source announced (X-Total-Count, totalPath), when it did. */
  total?: number;
  phase: string;
  /** Increases with every redraw: turns the spinner. */
  frame: number;
}

const clip = (line: string, columns: number) =>
  [...line].length > columns ? `${[...line].slice(0, columns - 1).join('')}…` : line;

export function progressLine(p: Progress, columns = 80): string {
  const width = Math.max(20, columns - 1); // the last column would make some terminals wrap
  const counts = `${p.cards} cards written | ${p.phase}`;
  if (p.total && p.total > 0) {
    const done = Math.min(p.records, p.total);
    const pct = Math.floor((done / p.total) * 100);
    const tail = ` ${String(pct).padStart(3)}% ${done}/${p.total} records | ${counts}`;
    const barWidth = Math.max(5, Math.min(30, width - [...tail].length - 2));
    const filled = Math.round((done / p.total) * barWidth);
    return clip(`[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]${tail}`, width);
  }
  return clip(`${SPINNER[p.frame % SPINNER.length]} ${p.records} records read | ${counts}`, width);
}
