/**
 * The part of `restCall` the SCIM and Graph activities share: the body template checked before anything runs
 * (400 when it is not JSON), then the call's URL and body with the invocation's data substituted (values
 * encoded into the URL, escaped into the JSON) in the task's date formats. An encoded dot segment is a bad
 * invocation (400); a value `data` lacks is the activity's Exception.
 */
import type { Task } from '../../../model/resources.js';
import { InvalidInvocationError, type InvokeData } from '../../types.js';
import { ActivityFailure } from '../activity/run.js';
import { dateValueFormatter } from '../date-format.js';
import {
  bodyTemplateIsJson,
  DotSegmentError,
  SubstitutionError,
  substituteJson,
  substituteUrl,
} from '../substitute.js';
import type { CallInput } from './input.js';

/** Refuses (400) a body template that is not JSON, before any upstream call. */
export function checkBodyTemplate(call: CallInput): void {
  if (call.body === undefined) return;
  const { json, error } = bodyTemplateIsJson(call.body);
  if (!json) throw new InvalidInvocationError(`input.body is not valid JSON (${error})`);
}

/** The call's URL (`toUrl` of the substituted URL text) and body with `data` substituted. */
export function substituteCall(
  call: CallInput,
  data: InvokeData,
  task: Task,
  toUrl: (substituted: string) => URL,
): { url: URL; body: string | undefined } {
  const event = task.spec.event ?? {};
  try {
    const formatString = dateValueFormatter({ dateFormat: event.dateFormat, dateTimeFormat: event.dateTimeFormat });
    const url = toUrl(substituteUrl(call.url, data, { where: 'input.url', formatString }));
    const body =
      call.body === undefined ? undefined : substituteJson(call.body, data, { where: 'input.body', formatString });
    return { url, body };
  } catch (e) {
    if (e instanceof DotSegmentError) throw new InvalidInvocationError(e.message);
    if (e instanceof SubstitutionError) throw new ActivityFailure(e.message);
    throw e;
  }
}
