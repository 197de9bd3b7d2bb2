/**
 * `restCall` on a Microsoft Graph connector: one request to graphUrl + `/v1.0` + spec.event.query + the call's
 * URL, built from input {method, url, body} with the invocation's data substituted as the REST type's restCall
 * does (connectors/kit: event-call/, substitute.ts), sent with the connector's Graph token under the activity's
 * deadline and retry rules (run.ts). A relative URL stays under /v1.0; an absolute one must be on graphUrl's
 * origin (`https://graph.microsoft.com/beta/…` is, another host is a 400): the token goes with it. Completed iff
 * 200 <= status < 400, with the body as the response; otherwise an Exception with Graph's code and message.
 */
import { callUrl, checkUrlText, isAbsoluteUrl, taskPrefix, urlBase } from '../../kit/event-call/call-url.js';
import { readInput } from '../../kit/event-call/input.js';
import { responseValue, scrubbedResponse, statusException, statusLine } from '../../kit/event-call/outcome.js';
import { checkBodyTemplate, substituteCall } from '../../kit/event-call/prepare.js';
import type { ActionHandler } from '../../types.js';
import { graphError } from '../api.js';
import { graphBlock, graphHost } from '../config.js';
import { ActivityFailure, activity } from './run.js';

export const restCall: ActionHandler = (ctx, input, data) => {
  const call = readInput(input);
  const host = graphHost(graphBlock(ctx.connector));
  const origin = urlBase(new URL(host.origin));
  const versioned = urlBase(new URL(`${host.origin}/v1.0`));
  checkUrlText(call.url, 'input.url', versioned);
  const prefix = taskPrefix(versioned, ctx.task.spec.event?.query);
  checkBodyTemplate(call);
  return activity(ctx, async (run) => {
    const { url, body } = substituteCall(call, data, ctx.task, (substituted) =>
      callUrl(isAbsoluteUrl(substituted) ? origin : versioned, prefix, substituted),
    );
    const answer = await run.send(call.method, url, body);
    if (answer.status >= 200 && answer.status < 400) {
      return { state: 'Completed', statusCode: answer.status, response: responseValue(answer), exception: null };
    }
    const scrub = (t: string): string => run.scrub(t);
    const what = `${call.method} ${url.pathname}`;
    const { code, message } = graphError(answer.body);
    const text = code
      ? scrub(`${what} answered ${statusLine(answer.status)}: ${code}${message ? `: ${message}` : ''}`)
      : statusException(what, answer, scrub, 'spec.msgraph.auth');
    throw new ActivityFailure(text, answer.status, scrubbedResponse(answer, scrub));
  });
};
