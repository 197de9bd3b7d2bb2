/**
 * One activity on a cached LDAP session, under one deadline (spec.event.timeout, default 30s). LDAP results map
 * to the statuses a workflow reads: success 200 (201 for an add, 204 for a modify or delete), noSuchObject 404,
 * alreadyExists and typeOrValueExists 409, insufficientAccess 403, invalidCredentials 401, unwillingToPerform,
 * constraint and syntax errors 400; anything else, a refused connection or the deadline, is an Exception with the
 * server's words. A connection failure drops the session so that the next call binds again.
 */
import { ResultCodeError } from 'ldapts';
import { parseDuration } from '../../../model/duration.js';
import { ProvisioError } from '../../../model/errors.js';
import { DEFAULT_EVENT_TIMEOUT } from '../../kit/activity/run.js';
import type { ActionContext, ActionResult } from '../../types.js';
import { describeLdapError } from '../errors.js';
import type { LdapSession } from '../session.js';
import { leaseLdapSession } from './session.js';

const STATUS: Readonly<Record<number, number>> = {
  32: 404,
  68: 409,
  20: 409,
  50: 403,
  49: 401,
  53: 400,
  19: 400,
  21: 400,
  34: 400,
  65: 400,
  17: 400,
};

/** What an activity hands back when it succeeds. */
export interface Done {
  statusCode: number;
  response: unknown;
}

/** A refusal the activity decides on (not found on a verify, a password over a plain connection). */
export class ActivityFailure extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

export async function activity(ctx: ActionContext, work: (s: LdapSession) => Promise<Done>): Promise<ActionResult> {
  const timeout = ctx.task.spec.event?.timeout ?? DEFAULT_EVENT_TIMEOUT;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ActivityFailure(`no answer within spec.event.timeout (${timeout})`)),
      parseDuration(timeout),
    );
  });
  let lease: Awaited<ReturnType<typeof leaseLdapSession>> | undefined;
  try {
    lease = await Promise.race([leaseLdapSession(ctx), expired]);
    const done = await Promise.race([work(lease.session), expired]);
    return { state: 'Completed', statusCode: done.statusCode, response: done.response, exception: null };
  } catch (e) {
    if (!(e instanceof ResultCodeError) && !(e instanceof ActivityFailure)) lease?.evict();
    return failure(e, lease?.session);
  } finally {
    clearTimeout(timer);
    lease?.release();
  }
}

function failure(e: unknown, session: LdapSession | undefined): ActionResult {
  const scrub = (t: string): string => (session ? session.scrub(t) : t);
  if (e instanceof ActivityFailure) {
    return { state: 'Exception', statusCode: e.statusCode, response: null, exception: scrub(e.message) };
  }
  if (e instanceof ResultCodeError) {
    return { state: 'Exception', statusCode: STATUS[e.code], response: null, exception: scrub(describeLdapError(e)) };
  }
  const text = e instanceof ProvisioError || e instanceof Error ? e.message : String(e);
  return { state: 'Exception', response: null, exception: scrub(text) };
}
