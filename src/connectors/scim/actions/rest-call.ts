/**
 * `restCall` on a SCIM connector: one request to the SCIM API (the connector's base URL + spec.event.query + the
 * call's URL), built from input {method, url, body} with the invocation's data substituted, as the REST type's
 * restCall does (the shared parts are in connectors/kit: event-call/, substitute.ts). Sent with the connector's
 * Basic or Bearer header, under the activity's deadline and retry rules (run.ts). Completed iff
 * 200 <= status < 400, with the body as the response.
 */
import { callUrl, checkUrlText, taskPrefix, urlBase } from '../../kit/event-call/call-url.js';
import { readInput } from '../../kit/event-call/input.js';
import { responseValue, scrubbedResponse, statusException } from '../../kit/event-call/outcome.js';
import { checkBodyTemplate, substituteCall } from '../../kit/event-call/prepare.js';
import type { ActionHandler } from '../../types.js';
import { scimBaseUrl, scimBlock } from '../config.js';
import { ActivityFailure, activity } from './run.js';

export const restCall: ActionHandler = (ctx, input, data) => {
  const call = readInput(input);
  const where = urlBase(scimBaseUrl(scimBlock(ctx.connector)));
  checkUrlText(call.url, 'input.url', where);
  const prefix = taskPrefix(where, ctx.task.spec.event?.query);
  checkBodyTemplate(call);
  return activity(ctx, async (run) => {
    const { url, body } = substituteCall(call, data, ctx.task, (substituted) => callUrl(where, prefix, substituted));
    const answer = await run.send(call.method, url, body);
    if (answer.status >= 200 && answer.status < 400) {
      return { state: 'Completed', statusCode: answer.status, response: responseValue(answer), exception: null };
    }
    const scrub = (t: string): string => run.scrub(t);
    throw new ActivityFailure(
      statusException(`${call.method} ${url.pathname}`, answer, scrub, 'spec.scim.auth'),
      answer.status,
      scrubbedResponse(answer, scrub),
    );
  });
};
