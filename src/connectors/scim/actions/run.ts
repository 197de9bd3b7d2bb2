/**
 * One activity's exchanges with the SCIM server. One deadline (spec.event.timeout, default 30s) bounds the whole
 * activity, session and every request. Retries: a 429 or 503 is waited out (Retry-After honoured, within the
 * deadline) for every method but POST; a connection reset is resent once for GET, PUT and DELETE (the
 * transport's RESET_ONCE); a POST is never sent twice. A SCIM error answer becomes an ActivityFailure with the
 * server's scimType and detail (`POST /Users answered 409 Conflict: uniqueness: userName "ada" already exists`).
 */
import { parseDuration } from '../../../model/duration.js';
import { Deadline } from '../../../transport/deadline.js';
import {
  classify,
  errorCode,
  type HttpMethod,
  type HttpResponse,
  RESET_ONCE,
  type RetryPolicy,
  statusText,
  TLS_CODE,
} from '../../../transport/http-client.js';
import { excerpt } from '../../../transport/scrub.js';
import { scrubbedResult } from '../../kit/event-call/outcome.js';
import { isRecord } from '../../kit/markers.js';
import { type ActionContext, type ActionResult, InvalidInvocationError } from '../../types.js';
import { AUTH_HINT, scimError } from '../api.js';
import { endpoint } from '../config.js';
import { features, type ProviderFeatures } from '../provider.js';
import { type EventSession, leaseScimSession, type SessionLease } from './sessions.js';

export const DEFAULT_EVENT_TIMEOUT = '30s';

/** A request that failed: the Exception text, and the status and SCIM error body when the server answered. */
export class ActivityFailure extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly response: unknown = null,
  ) {
    super(message);
  }
}

const BUSY = new Set([429, 503]);

/** The retry policy of one request: see the file comment. */
function policyFor(method: HttpMethod, timeoutMs: number): RetryPolicy {
  if (method === 'POST') return RESET_ONCE;
  let resets = 0;
  return {
    ...RESET_ONCE,
    maxAttempts: 50,
    baseDelayMs: 200,
    maxDelayMs: 5_000,
    maxRetryAfterMs: timeoutMs,
    retryStatus: (status) => BUSY.has(status),
    retryFailure: (error, req) => resets++ === 0 && RESET_ONCE.retryFailure!(error, req),
  };
}

export interface Answer {
  status: number;
  body: unknown;
}

export class ActivityRun {
  private lease?: SessionLease;
  private readonly deadline: Deadline;
  readonly timeoutText: string;
  /** The request under way, for messages (`PATCH /Users/u1`). */
  what = 'the SCIM session';

  constructor(readonly ctx: ActionContext) {
    this.timeoutText = ctx.task.spec.event?.timeout ?? DEFAULT_EVENT_TIMEOUT;
    this.deadline = new Deadline(ctx.signal, parseDuration(this.timeoutText));
  }

  private async session(): Promise<EventSession> {
    if (this.lease) return this.lease.session;
    const leasing = leaseScimSession(this.ctx);
    this.lease = await this.deadline.race(leasing).catch((e: unknown) => {
      leasing.then(
        (l) => l.release(),
        () => {},
      );
      throw e;
    });
    return this.lease.session;
  }

  async base(): Promise<URL> {
    return (await this.session()).scim.baseUrl;
  }

  /** One request; throws ActivityFailure for an answer outside 2xx unless `accept` takes its status. */
  async request(method: HttpMethod, path: string, body?: unknown, accept: number[] = []): Promise<Answer> {
    const session = await this.session();
    const url = endpoint(session.scim.baseUrl, path);
    const res = await this.exchange(session, method, url, body, session.scim.api.describe(url, method));
    if ((res.status >= 200 && res.status < 300) || accept.includes(res.status)) {
      return { status: res.status, body: parseBody(res.body) };
    }
    throw this.refusal(res, session);
  }

  /** One request to a URL the caller checked (restCall); returns the answer whatever its status. */
  async send(method: HttpMethod, url: URL, body?: string): Promise<HttpResponse> {
    return this.exchange(await this.session(), method, url, body, `${method} ${url.pathname}`);
  }

  /** Sends under the activity's deadline and retry rules; a 401 drops the session (its credentials failed). */
  private async exchange(
    session: EventSession,
    method: HttpMethod,
    url: URL,
    body: unknown,
    what: string,
  ): Promise<HttpResponse> {
    this.what = what;
    const res = await session.scim.api.call(method, url, body, {
      signal: this.deadline.signal,
      retry: policyFor(method, this.deadline.ms),
      attemptTimeout: false,
    });
    if (res.status === 401) this.lease?.evict();
    return res;
  }

  scrub(text: string): string {
    return this.lease?.session.scim.scrub(text) ?? text;
  }

  /** The server's features, read once per session. */
  async features(): Promise<ProviderFeatures> {
    const session = await this.session();
    session.features ??= features((await this.request('GET', '/ServiceProviderConfig')).body);
    return session.features;
  }

  private refusal(res: HttpResponse, session: EventSession): ActivityFailure {
    const scrub = (t: string): string => session.scim.scrub(t);
    const answer = `${this.what} answered ${statusText(res.status)}`;
    const response = parseBody(scrub(res.body));
    if (res.status === 401 || res.status === 403) return new ActivityFailure(`${answer}: ${AUTH_HINT}`, res.status);
    const { scimType, detail } = scimError(res.body);
    const text = detail ?? (res.body.trim() ? res.body : '');
    const said = [scimType, text ? scrub(excerpt(text)) : undefined].filter(Boolean).join(': ');
    return new ActivityFailure(`${answer}${said ? `: ${said}` : ''}`, res.status, response);
  }

  /** The Exception result of whatever the activity threw; a bad invocation is thrown on (400). */
  failed(e: unknown): ActionResult {
    if (e instanceof InvalidInvocationError) throw e;
    const scrub = (t: string): string => this.lease?.session.scim.scrub(t) ?? t;
    let text: string;
    let statusCode: number | undefined;
    let response: unknown = null;
    if (e instanceof ActivityFailure) [text, statusCode, response] = [e.message, e.statusCode, e.response];
    else if (this.deadline.timedOut)
      text = `${this.what} did not answer within ${this.timeoutText} (spec.event.timeout)`;
    else if (this.ctx.signal.aborted) text = `${this.what} was cancelled`;
    else if (errorCode(e) === undefined && e instanceof Error) text = `${this.what} was not sent: ${scrub(e.message)}`;
    else text = `${this.what} failed: ${scrub(classify(e).message)}`;
    if (TLS_CODE.test(errorCode(e) ?? '')) this.lease?.evict();
    this.ctx.log.warn({ statusCode, exception: text }, 'SCIM activity failed');
    return { state: 'Exception', statusCode, response, exception: text };
  }

  dispose(): void {
    this.deadline.dispose();
    this.lease?.release();
  }
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Runs an activity body with its own ActivityRun; failures become Exception results. */
export async function activity(
  ctx: ActionContext,
  body: (run: ActivityRun) => Promise<ActionResult>,
): Promise<ActionResult> {
  const run = new ActivityRun(ctx);
  try {
    // Whatever the SCIM server answered, scrubbed of the connector's secrets (an echoed Authorization value).
    return scrubbedResult(await body(run), (t) => run.scrub(t));
  } catch (e) {
    return run.failed(e);
  } finally {
    run.dispose();
  }
}

export const completed = (statusCode: number, response: unknown = null): ActionResult => ({
  state: 'Completed',
  statusCode,
  response,
  exception: null,
});

export const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
