/**
 * Event task invocation (DESIGN §2, §3): finds the task, refuses what cannot run (typed Refusals that say
 * why; `server/` maps their kind to an HTTP status), applies limits and Idempotency-Key, runs the activity, and records the outcome: an audit log
 * line, metrics, and the task's status.invocations counters.
 */
import { setMaxListeners } from 'node:events';
import { connectorType } from '../connectors/registry.js';
import type { ActionResult } from '../connectors/types.js';
import { loadActivityRecords } from '../engine/load-records.js';
import type { Logger } from '../log/logger.js';
import { parseDuration } from '../model/duration.js';
import { Refusal } from '../model/errors.js';
import type { Connector, Task, TaskStatus } from '../model/resources.js';
import { namespaceOf, refKey } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';
import type { Idempotency, IdempotentOutcome } from '../state/idempotency.js';
import type { InvocationCounters, InvocationTotals } from '../state/invocation-counters.js';
import type { StatusStore } from '../state/status-store.js';
import type { TargetFactory } from '../targets/types.js';
import { callFingerprint } from './fingerprint.js';
import { parseInvokeRequest } from './invoke-request.js';
import type { InvocationLimits } from './limits.js';
import { runTaskActivity } from './run-task-activity.js';
import type { TaskGate } from './task-gate.js';

export interface InvocationServiceOptions {
  statuses: StatusStore;
  /** The tasks, whether they can run now, and the scheduler for the runTask activity. */
  gate: TaskGate;
  secrets: SecretResolver;
  log: Logger;
  /** Where each finished invocation is counted (server/metrics.ts: Prometheus); none: not counted. */
  metrics?: InvocationMetrics;
  limits: InvocationLimits;
  idempotency: Idempotency;
  /** Totals shared by every replica (Redis); without, this process's counts are added to its status. */
  counters?: InvocationCounters;
  /** How often invocation counters are written to status. */
  flushEveryMs?: number;
  /** Where an activity's records go when it loads them (readUser with load); none: such activities fail. */
  targets?: TargetFactory;
}

/** The labels of one finished invocation. */
export interface InvocationLabels {
  namespace: string;
  task: string;
  activity: string;
  state: ActionResult['state'];
}

/** The metrics port of the service: told about every invocation that ran (refusals are not counted). */
export interface InvocationMetrics {
  invocationFinished(labels: InvocationLabels, durationSeconds: number): void;
}

export interface InvokeAnswer {
  status: number;
  body: {
    state: ActionResult['state'];
    statusCode: number | null;
    response: unknown;
    exception: string | null;
    durationMs: number;
  };
  headers?: Record<string, string>;
}

type CounterDelta = InvocationTotals;

const GENERIC_ACTIVITIES = ['runTask'] as const;
/** For invocations without a caller signal; every concurrent call listens on it, so no listener limit. */
const NEVER_ABORTED = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);

export class InvocationService {
  private readonly pending = new Map<string, CounterDelta>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: InvocationServiceOptions) {
    this.timer = setInterval(() => void this.flush(), opts.flushEveryMs ?? 1000);
    this.timer.unref();
  }

  async invoke(
    namespace: string,
    name: string,
    body: unknown,
    call: { caller: string; idempotencyKey?: string; replay?: 'force'; signal?: AbortSignal },
  ): Promise<InvokeAnswer> {
    const key = refKey(namespace, name);
    const { task, connector } = this.invocable(key, namespace, name);
    const type = connectorType(connector.spec.type);
    const activities = [...Object.keys(type.actions ?? {}), ...GENERIC_ACTIVITIES];
    const request = parseInvokeRequest(body, activities);
    const work = async () => {
      const release = this.opts.limits.acquire(key, task.spec.event?.maxConcurrency ?? 64);
      try {
        return await this.execute(key, task, connector, request, call.signal);
      } finally {
        release();
      }
    };
    const ikey = call.idempotencyKey;
    const outcome: IdempotentOutcome = ikey
      ? await this.opts.idempotency.once(
          {
            task: key,
            key: ikey,
            fingerprint: callFingerprint(request),
            force: call.replay === 'force',
            waitMs: eventTimeoutMs(task),
          },
          work,
        )
      : { ...(await work()), replayed: false };
    const result = outcome.body as InvokeAnswer['body'];
    this.opts.log.info(
      {
        audit: 'invocation',
        task: key,
        activity: request.activity,
        caller: call.caller,
        state: result.state,
        statusCode: result.statusCode,
        durationMs: result.durationMs,
        ...(ikey ? { idempotent: true, replayed: outcome.replayed, forced: call.replay === 'force' } : {}),
        ...(outcome.notStored ? { resultNotStored: outcome.notStored } : {}),
      },
      `${request.activity} on ${key} by ${call.caller}: ${result.state}${result.statusCode ? ` (upstream ${result.statusCode})` : ''}${outcome.replayed ? ', replayed from the first call' : ''}${outcome.notStored ? `; its result was not stored for retries (${outcome.notStored})` : ''}`,
    );
    return { status: outcome.status, body: result, headers: answerHeaders(outcome) };
  }

  /** The task and connector if the task may be invoked now; else the Refusal that says why not. */
  private invocable(key: string, namespace: string, name: string): { task: Task; connector: Connector } {
    const stored = this.opts.gate.task(key);
    if (!stored) throw new Refusal('notFound', `Task "${name}" not found in namespace "${namespace}"`);
    const task = stored.effective;
    if (!task)
      throw new Refusal('conflict', `Task ${key} is invalid: ${stored.errors[0]?.message ?? 'see its status'}`);
    if (task.spec.usage !== 'event') {
      throw new Refusal(
        'conflict',
        `Task ${key} is a ${task.spec.usage} task; only tasks with usage: event can be invoked`,
      );
    }
    const blocker = this.opts.gate.blocker(stored);
    if (blocker) throw new Refusal('conflict', `Task ${key} cannot be invoked: ${blocker.message}`);
    if (this.opts.gate.suspended(stored)) {
      throw new Refusal(
        'conflict',
        `Task ${key} is suspended: resume it (spec.suspend: false or provisio resume) to invoke it`,
      );
    }
    const connector = this.opts.gate.connectorOf(task) as Connector;
    return { task, connector };
  }

  private async execute(
    key: string,
    task: Task,
    connector: Connector,
    request: ReturnType<typeof parseInvokeRequest>,
    callerSignal: AbortSignal | undefined,
  ): Promise<{ status: number; body: InvokeAnswer['body']; replay?: InvokeAnswer['body'] }> {
    const started = performance.now();
    // An InvalidInvocationError (bad input, a URL off the connector's origin) is a Refusal: it goes to the caller.
    let result: ActionResult;
    if (request.activity === 'runTask') {
      result = await runTaskActivity(this.opts.gate, namespaceOf(task), request.input);
    } else {
      const handler = connectorType(connector.spec.type).actions![request.activity];
      result = await handler(
        {
          connector,
          task,
          namespace: namespaceOf(task),
          secrets: this.opts.secrets,
          signal: callerSignal ?? NEVER_ABORTED,
          log: this.opts.log,
          connectorFile: this.opts.gate.connectorFile?.(task),
        },
        request.input,
        request.data,
      );
      if (result.load?.length && result.state === 'Completed') result = await this.load(task, connector, result);
    }
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    this.count(key, task, request.activity, result, durationMs);
    const body = {
      state: result.state,
      statusCode: result.statusCode ?? null,
      response: result.response ?? null,
      exception: result.exception,
      durationMs,
    };
    // A response with a value given once (a generated password) is stored, and replayed, without it.
    const replay = result.replayResponse === undefined ? undefined : { ...body, response: result.replayResponse };
    return { status: 200, body, ...(replay ? { replay } : {}) };
  }

  /** Loads what the activity read into the task's cards; a load that fails makes the answer an Exception. */
  private async load(task: Task, connector: Connector, result: ActionResult): Promise<ActionResult> {
    const records = result.load ?? [];
    let why: string | undefined;
    try {
      if (!this.opts.targets) why = 'this controller has no target to load into';
      else {
        const loaded = await loadActivityRecords(this.opts.targets, task, connector, records);
        if (loaded.failed.length > 0) why = loaded.failed.join('; ');
        else
          this.opts.log.info(
            { task: refKey(namespaceOf(task), task.metadata.name), ...loaded },
            'activity records loaded into cards',
          );
      }
    } catch (e) {
      why = (e as Error).message;
    }
    if (why === undefined) return result;
    return {
      ...result,
      state: 'Exception',
      exception: `read ${records.length} record(s), but loading them into cards failed: ${why}`,
    };
  }

  private count(key: string, task: Task, activity: string, result: ActionResult, durationMs: number): void {
    const labels = { namespace: namespaceOf(task), task: task.metadata.name, activity, state: result.state };
    this.opts.metrics?.invocationFinished(labels, durationMs / 1000);
    const d = this.pending.get(key) ?? { total: 0, failed: 0 };
    d.total++;
    d.lastTime = new Date().toISOString();
    if (result.state === 'Exception') {
      d.failed++;
      d.lastError = result.exception ?? 'exception';
    }
    this.pending.set(key, d);
  }

  /**
   * Adds the counted invocations to each task's status (batched: one write per task per interval). Flushes
   * run one after the other: a caller (close, a test) that flushes while the timer's flush is still
   * waiting for Redis gets its answer only once that one's counts are in status too.
   */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.flushPending());
    this.flushing = next.catch(() => {});
    return next;
  }

  private async flushPending(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    for (const [key, d] of batch) {
      const seen = this.opts.statuses.peek<TaskStatus>('Task', key)?.status.invocations;
      let totals: InvocationTotals;
      if (this.opts.counters) {
        try {
          const seed = seen ? { total: seen.total ?? 0, failed: seen.failed ?? 0, ...pickTimes(seen) } : undefined;
          totals = await this.opts.counters.add(key, d, seed);
        } catch (e) {
          // Not lost: counted again with the next batch.
          this.merge(key, d);
          this.opts.log.warn({ task: key, err: (e as Error).message }, 'could not add invocation counts to Redis');
          continue;
        }
      } else {
        totals = {
          total: (seen?.total ?? 0) + d.total,
          failed: (seen?.failed ?? 0) + d.failed,
          ...pickTimes({ lastTime: d.lastTime ?? seen?.lastTime, lastError: d.lastError ?? seen?.lastError }),
        };
      }
      const rec = this.opts.statuses.read<TaskStatus>('Task', key);
      if (!rec) continue;
      rec.status.invocations = totals;
      this.opts.statuses.write('Task', key, rec);
    }
  }

  private merge(key: string, d: CounterDelta): void {
    const p = this.pending.get(key) ?? { total: 0, failed: 0 };
    p.total += d.total;
    p.failed += d.failed;
    p.lastTime = p.lastTime ?? d.lastTime;
    p.lastError = p.lastError ?? d.lastError;
    this.pending.set(key, p);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** The task's event timeout: the longest a repeat waits for a first attempt running on another replica. */
function eventTimeoutMs(task: Task): number {
  try {
    return parseDuration(task.spec.event?.timeout ?? '30s');
  } catch {
    return 30_000;
  }
}

/**
 * `Idempotent-Replayed: true` on a replay; `Provisio-Warning` when the answer could not be stored for retries
 * (ADR 0007): the caller has the answer, but a retry with the same key may not get it.
 */
function answerHeaders(outcome: IdempotentOutcome): Record<string, string> | undefined {
  if (outcome.replayed) return { 'idempotent-replayed': 'true' };
  if (outcome.notStored) {
    return {
      'provisio-warning': `result not stored: ${outcome.notStored}`.replace(/[^\x20-\x7e]/g, ' ').slice(0, 300),
    };
  }
  return undefined;
}

function pickTimes(t: { lastTime?: string; lastError?: string }): { lastTime?: string; lastError?: string } {
  return { ...(t.lastTime ? { lastTime: t.lastTime } : {}), ...(t.lastError ? { lastError: t.lastError } : {}) };
}
