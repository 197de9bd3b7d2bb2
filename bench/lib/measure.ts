/** Shared measuring helpers of the benchmarks: an RSS sampler, argument parsing, formatting. */

const MB = 1024 * 1024;

export interface RssReport {
  /** RSS when sampling started, MB. */
  startMb: number;
  /** Highest sampled RSS, MB. */
  peakMb: number;
  /** The kernel's high-water mark for the whole process (process.resourceUsage().maxRSS), MB. */
  maxRssMb: number;
  samples: number;
}

/**
 * Samples process.memoryUsage().rss every `everyMs` in this process. A long synchronous stretch (a JSON.parse,
 * a SQLite transaction) delays samples, so the kernel's maxRSS is reported beside the sampled peak.
 */
export class RssSampler {
  private peak = 0;
  private samples = 0;
  private readonly start: number;
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 20) {
    this.start = process.memoryUsage.rss();
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    this.samples++;
  }

  stop(): RssReport {
    this.sample();
    clearInterval(this.timer);
    return {
      startMb: round(this.start / MB),
      peakMb: round(this.peak / MB),
      // maxRSS is in kilobytes on Linux and macOS.
      maxRssMb: round(process.resourceUsage().maxRSS / 1024),
      samples: this.samples,
    };
  }
}

export const round = (n: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export function flag(name: string): boolean {
  return process.argv.includes(name);
}

export function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

export function intOption(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer, got "${raw}"`);
  return n;
}

/** A plain-text table: the first `left` columns left-aligned, the others (figures) right-aligned. */
export function table(header: string[], rows: string[][], left = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
