/**
 * The "Generic REST call" activity (digest §4.9): one request to the connector's API, built from the node's
 * method, URL and body with the invocation's data substituted, sent with the connector's headers and auth.
 *
 * Outcomes: a bad invocation (method, URL off the connector, unparsable body template) throws
 * InvalidInvocationError before anything is sent. Everything else returns an ActionResult: `Completed` iff
 * 200 <= status < 400, otherwise `Exception` with one readable, scrubbed line (an unknown attribute, an
 * error status, a timeout, a refused connection, a failed login). Nothing is retried except GET, PUT and
 * DELETE once after a connection reset (the transport's RESET_ONCE policy, at most once per invocation), and
 * any method once after a 401 with a fresh dynamic token (a 401 means the request was not processed). One
 * deadline (spec.event.timeout) bounds the whole call: session, login, both sends.
 */

import { Deadline } from '../../../transport/deadline.js';
import {
  classify,
  errorCode,
  type HttpResponse,
  NO_RETRY,
  RESET_ONCE,
  type RetryEvent,
  TLS_CODE,
} from '../../../transport/http-client.js';
import { describeTarget } from '../../../transport/url.js';
import { callUrl, checkUrlText } from '../../kit/event-call/call-url.js';
import { type CallInput, readInput } from '../../kit/event-call/input.js';
import { scrubbedResponse, statusException } from '../../kit/event-call/outcome.js';
import {
  bodyTemplateIsJson,
  DotSegmentError,
  SubstitutionError,
  substituteJson,
  substituteText,
  substituteUrl,
} from '../../kit/substitute.js';
import type { ActionContext, ActionResult, InvokeData } from '../../types.js';
import { InvalidInvocationError } from '../../types.js';
import { mergeHeaders } from '../api.js';
import type { AuthState } from '../auth.js';
import { type CallPlan, ConfigError, callPlan } from './plan.js';
import { leaseSession, type SessionLease } from './sessions.js';

const JSON_TYPE = /[/+]json\b/;
const FORM_TYPE = 'application/x-www-form-urlencoded';

const exception = (text: string, extra: Partial<ActionResult> = {}): ActionResult => ({
  state: 'Exception',
  response: null,
  exception: text,
  ...extra,
});

export async function restCall(
  ctx: ActionContext,
  input: Record<string, unknown>,
  data: InvokeData,
): Promise<ActionResult> {
  const call = readInput(input);
  let plan: CallPlan;
  try {
    plan = callPlan(ctx.connector, ctx.task);
  } catch (e) {
    if (e instanceof ConfigError) return logged(ctx, exception(e.message));
    throw e;
  }
  checkUrlText(call.url, 'input.url', plan.where);
  let url: URL;
  let body: string | undefined;
  try {
    url = callUrl(
      plan.where,
      plan.prefix,
      substituteUrl(call.url, data, { where: 'input.url', formatString: plan.formatString }),
    );
    body = call.body === undefined ? undefined : renderBody(call.body, data, plan);
  } catch (e) {
    if (e instanceof DotSegmentError) throw new InvalidInvocationError(e.message);
    if (e instanceof SubstitutionError) return logged(ctx, exception(e.message));
    throw e;
  }
  return exchange(ctx, plan, call, url, body);
}

/** Fills the body template: JSON unless the task's headers ask for another Content-Type. */
function renderBody(template: string, data: InvokeData, plan: CallPlan): string {
  const options = { where: 'input.body', formatString: plan.formatString };
  const type = plan.contentType;
  if (type !== undefined && !JSON_TYPE.test(type)) {
    return substituteText(template, data, { ...options, form: type.startsWith(FORM_TYPE) });
  }
  const { json, error } = bodyTemplateIsJson(template);
  if (!json) {
    throw new InvalidInvocationError(
      `input.body is not valid JSON (${error}); write a JSON text, or set a non-JSON Content-Type in spec.event.headers`,
    );
  }
  return substituteJson(template, data, options);
}

async function exchange(
  ctx: ActionContext,
  plan: CallPlan,
  call: CallInput,
  url: URL,
  body: string | undefined,
): Promise<ActionResult> {
  const what = `${call.method} ${url.pathname}`;
  const headers =
    body !== undefined && plan.contentType === undefined
      ? { ...plan.headers, 'Content-Type': 'application/json' }
      : plan.headers;
  const deadline = new Deadline(ctx.signal, plan.timeoutMs);
  const started = performance.now();
  let lease: SessionLease | undefined;
  try {
    const leasing = leaseSession(ctx);
    lease = await deadline.race(leasing).catch((e: unknown) => {
      // Given up on: hand the lease back whenever it arrives.
      leasing.then(
        (l) => l.release(),
        () => {},
      );
      throw e;
    });
    const { session } = lease;
    const { http, auth } = session;
    // At most one resend after a reset per invocation, the 401 resend included.
    let resetRetried = false;
    const onRetry = (event: RetryEvent): void => {
      resetRetried = true;
      ctx.log.info({ request: what, code: errorCode(event.error) }, 'REST call: connection reset; sending once more');
    };
    const send = (state: AuthState): Promise<HttpResponse> =>
      http.exchange(
        { method: call.method, url, headers: mergeHeaders(headers, state.headers), body },
        { signal: deadline.signal, retry: resetRetried ? NO_RETRY : RESET_ONCE, attemptTimeout: false, onRetry },
      );
    const state = await deadline.race(auth.authorize());
    let answer = await send(state);
    if (answer.status === 401 && (await deadline.race(auth.refresh(state)))) {
      ctx.log.info({ request: what }, 'REST call answered 401; retrying with a new token');
      answer = await send(await deadline.race(auth.authorize()));
    }
    // Maybe the secret was rotated: the next invocation builds a new session that reads it again.
    if (answer.status === 401) lease.evict();
    const ms = Math.round(performance.now() - started);
    const scrub = (t: string): string => session.scrubber.scrub(t);
    if (answer.status >= 200 && answer.status < 400) {
      ctx.log.debug(
        { request: describeTarget(call.method, url, scrub), host: url.host, status: answer.status, ms },
        'REST call',
      );
      return {
        state: 'Completed',
        statusCode: answer.status,
        response: scrubbedResponse(answer, scrub),
        exception: null,
      };
    }
    return logged(
      ctx,
      exception(statusException(what, answer, scrub), {
        statusCode: answer.status,
        response: scrubbedResponse(answer, scrub),
      }),
    );
  } catch (e) {
    const scrub = (t: string): string => lease?.session.scrubber.scrub(t) ?? t;
    if (TLS_CODE.test(errorCode(e) ?? '')) lease?.evict();
    return logged(ctx, exception(failureText(e, what, plan, deadline, ctx.signal, scrub)));
  } finally {
    deadline.dispose();
    lease?.release();
  }
}

/** The Exception text of a call that got no answer. */
function failureText(
  e: unknown,
  what: string,
  plan: CallPlan,
  deadline: Deadline,
  outer: AbortSignal,
  scrub: (t: string) => string,
): string {
  const reason: unknown = outer.aborted ? outer.reason : undefined;
  // A caller may hand in a signal with a timeout of its own (AbortSignal.timeout): reported the same way.
  if (deadline.timedOut || (reason instanceof Error && reason.name === 'TimeoutError')) {
    return `${what} did not answer within ${plan.timeoutText} (spec.event.timeout)`;
  }
  if (outer.aborted) return `${what} was cancelled${reason instanceof Error ? `: ${scrub(reason.message)}` : ''}`;
  if (errorCode(e) === undefined && e instanceof Error) {
    // Session setup and logins fail with messages of their own (missing secret, login refused).
    return `${what} was not sent: ${scrub(e.message)}`;
  }
  return `${what} failed: ${scrub(classify(e).message)}`;
}

function logged(ctx: ActionContext, result: ActionResult): ActionResult {
  ctx.log.warn({ statusCode: result.statusCode, exception: result.exception }, 'REST call failed');
  return result;
}
