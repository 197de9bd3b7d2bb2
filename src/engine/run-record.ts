/**
 * The record of one run (the seeds' history fields): counters as they move, the issues worth telling the
 * admin, throttled progress for status and progress bars, and the closing summary lines.
 */
import type { Logger } from '../log/logger.js';
import { keyOf, type TaskRunSummary } from '../model/resources.js';
import type { RunRequest } from './engine-deps.js';

const MAX_LISTED_ISSUES = 20;
const PROGRESS_EVERY_MS = 250;
/** How often a long run says at info how far it got (EngineDeps.progressLogEveryMs). */
export const PROGRESS_LOG_EVERY_MS = 10_000;

export type ExtractPhase = NonNullable<TaskRunSummary['extract']>;
export type LoadPhase = NonNullable<TaskRunSummary['load']> & {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  restored: number;
  failed: number;
};

/** The first issues verbatim, then a count: a run with a million bad rows keeps a readable summary. */
export class IssueList {
  private readonly items: string[] = [];
  private more = 0;
  add(issue: string): void {
    if (this.items.length < MAX_LISTED_ISSUES) this.items.push(issue);
    else this.more++;
  }
  get count(): number {
    return this.items.length + this.more;
  }
  toString(): string {
    return this.items.join('; ') + (this.more > 0 ? `; and ${this.more} more` : '');
  }
}

const plural = (n: number | undefined, word: string) => `${n ?? 0} ${word}${n === 1 ? '' : 's'}`;

export class RunRecord {
  readonly summary: TaskRunSummary;
  readonly extract: ExtractPhase;
  readonly load: LoadPhase;
  readonly issues = new IssueList();
  /** Notes for the load info besides the counts (deletion marking skipped, records missing once, ...). */
  readonly notes: string[] = [];
  private lastProgress = 0;
  private lastProgressLog: number;

  constructor(
    private readonly req: RunRequest,
    readonly now: () => Date,
    /** The run's logger and how often progress goes to it (its clock is `now`, so tests need not sleep). */
    private readonly progressLog?: { log: Logger; everyMs: number },
  ) {
    this.lastProgressLog = now().getTime();
    this.extract = { status: 'Running', records: 0, apiCalls: 0 };
    this.load = { status: 'Pending', created: 0, updated: 0, unchanged: 0, deleted: 0, restored: 0, failed: 0 };
    this.summary = {
      id: req.runId,
      trigger: req.trigger,
      plannedTime: req.plannedTime.toISOString(),
      startTime: now().toISOString(),
      extract: this.extract,
      load: this.load,
    };
  }

  /** Hands a copy to the caller at most every 250 ms, or now when forced (start and end of the run). */
  progress(force = false): void {
    this.logProgress();
    const t = Date.now();
    if (!this.req.onProgress || (!force && t - this.lastProgress < PROGRESS_EVERY_MS)) return;
    this.lastProgress = t;
    this.req.onProgress(structuredClone(this.summary));
  }

  /** "run in progress: 12000 records read, 11500 cards written" at info, every progressLog.everyMs. */
  private logProgress(): void {
    if (!this.progressLog) return;
    const t = this.now().getTime();
    if (t - this.lastProgressLog < this.progressLog.everyMs) return;
    this.lastProgressLog = t;
    const l = this.load;
    const written = l.created + l.updated;
    this.progressLog.log.info(
      { records: this.extract.records, written, unchanged: l.unchanged, apiCalls: this.extract.apiCalls },
      `run in progress: ${plural(this.extract.records, 'record')} read, ${plural(written, 'card')} written, ${l.unchanged} unchanged`,
    );
  }

  loadStarted(): void {
    if (this.load.startTime) return;
    this.load.startTime = this.now().toISOString();
    this.load.status = 'Running';
  }

  /** `read 3 records in 1 API call`. */
  readSummary(): string {
    return `read ${plural(this.extract.records, 'record')} in ${plural(this.extract.apiCalls, 'API call')}`;
  }

  private loadSummary(): string {
    const l = this.load;
    const restored = l.restored > 0 ? `, restored ${l.restored}` : '';
    const counts = `created ${l.created}, updated ${l.updated}, unchanged ${l.unchanged}, marked deleted ${l.deleted}${restored}, not loaded ${l.failed}`;
    return [counts, ...this.notes, ...(this.issues.count > 0 ? [this.issues.toString()] : [])].join('; ');
  }

  /** Completes the record and logs the run's outcome in one line. */
  finish(log: Logger): TaskRunSummary {
    const { extract, load } = this;
    load.completionTime = this.now().toISOString();
    if (load.restored === 0) delete (load as Partial<LoadPhase>).restored;
    const summary = this.loadSummary();
    load.info = load.info ? `${load.info}; ${summary}` : summary;
    if (!this.summary.reason && extract.status === 'Succeeded' && load.status === 'Succeeded') {
      this.summary.reason = 'Succeeded';
    }
    this.progress(true);
    this.logOutcome(log);
    return this.summary;
  }

  /**
   * The run's outcome in one line: info for a success or a stop on request, warn for an incomplete extract
   * (loaded, deletion marking skipped), error for a failed run, with the reason in words.
   */
  private logOutcome(log: Logger): void {
    const { extract, load, summary } = this;
    const fields = {
      reason: summary.reason,
      extract: extract.status,
      load: load.status,
      records: extract.records,
      created: load.created,
      updated: load.updated,
      unchanged: load.unchanged,
      deleted: load.deleted,
      restored: load.restored,
      missing: load.missing,
      failed: load.failed,
    };
    const details = `${extract.info ?? ''}; ${load.info}`;
    const stopped = extract.status === 'Stopped' || load.status === 'Stopped';
    if (summary.reason === 'Succeeded') log.info(fields, `run succeeded: ${details}`);
    else if (stopped) log.info(fields, `run stopped on request: ${details}`);
    else if (summary.reason === 'ExtractIncomplete')
      log.warn(fields, `run ended with an incomplete extract: ${details}`);
    else {
      log.error(
        fields,
        `run ${summary.id} of task ${keyOf(this.req.task)} failed (${summary.reason ?? 'Failed'}): ${failureWords(this)}`,
      );
    }
  }
}

/** Why a run failed, from the phase that failed: the extract's info, or the load's. */
function failureWords(r: RunRecord): string {
  const extractFailed = r.extract.status !== 'Succeeded' && r.summary.reason !== 'DeletionRefused';
  return (extractFailed ? r.extract.info : r.load.info) ?? 'no reason was recorded';
}
