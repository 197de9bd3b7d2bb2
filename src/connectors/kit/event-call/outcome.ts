/**
 * What a workflow gets back from a restCall (digest §4.9; shared by the REST and SCIM types): the upstream body for its response attribute (JSON when
 * it is JSON, else text, null when empty), and for failures one readable line, `PATCH /users/42 answered
 * 404 Not Found: user 42 not found`, with the API's own error message pulled out of the usual JSON shapes.
 * Every text and every response passes the session's scrubber: APIs like to echo the credentials they were sent.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from '../../../transport/http-client.js';
import { excerpt, scrubValue } from '../../../transport/scrub.js';

/** What the upstream answered to a call. */
export type CallAnswer = Pick<HttpResponse, 'status' | 'headers' | 'body'>;

const JSON_TYPE = /[/+]json\b/i;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function contentType(answer: CallAnswer): string | undefined {
  const v = answer.headers['content-type'];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The body as the response attribute receives it: parsed when the server says JSON (or says nothing and it
 * parses), the text otherwise, and null for an empty body such as a 204's.
 */
export function responseValue(answer: CallAnswer): unknown {
  const text = answer.body;
  if (text.trim() === '') return null;
  const type = contentType(answer);
  if (type && !JSON_TYPE.test(type)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The API's error message from the usual JSON error shapes, or undefined when there is none. */
export function errorMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const { error, errors } = body;
  if (isRecord(error) && nonEmpty(error.message)) return error.message;
  if (nonEmpty(body.message)) return body.message;
  if (nonEmpty(error)) return nonEmpty(body.error_description) ? `${error}: ${body.error_description}` : error;
  if (Array.isArray(errors) && errors.length > 0) {
    const first: unknown = errors[0];
    if (isRecord(first) && nonEmpty(first.message)) return first.message;
    if (nonEmpty(first)) return first;
  }
  // RFC 9457 problem details.
  if (nonEmpty(body.detail)) return body.detail;
  if (nonEmpty(body.title)) return body.title;
  return undefined;
}

export const statusLine = (status: number): string =>
  `${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;

/** `<METHOD> <path> answered 404 Not Found: <message>`, scrubbed and cut to ~300 characters. */
export function statusException(
  what: string,
  answer: CallAnswer,
  scrub: (t: string) => string,
  authField = 'spec.rest.auth',
): string {
  const parsed = responseValue(answer);
  const message = errorMessage(parsed) ?? (typeof parsed === 'string' ? parsed : answer.body);
  const hint =
    answer.status === 401 || answer.status === 403 ? ` (check the connector's ${authField} and its secret)` : '';
  const detail = message.trim() === '' ? '' : `: ${excerpt(scrub(message))}`;
  return `${what} answered ${statusLine(answer.status)}${hint}${detail}`;
}

/**
 * The response of a call, failed or completed, scrubbed of every secret value of the connector (ADR 0007: an
 * upstream that echoes the bearer token or the Basic value in a 2xx body must not hand it to the workflow, the
 * idempotency store or the logs). The value is parsed first and its strings scrubbed, so the JSON stays intact.
 */
export function scrubbedResponse(answer: CallAnswer, scrub: (t: string) => string): unknown {
  return scrubValue(responseValue(answer), scrub);
}

/** An activity's result with its response and exception scrubbed (for activities that build their own). */
export function scrubbedResult<T extends { response: unknown; exception: string | null }>(
  result: T,
  scrub: (t: string) => string,
): T {
  const response = scrubValue(result.response, scrub);
  const exception = result.exception === null ? null : scrub(result.exception);
  return response === result.response && exception === result.exception ? result : { ...result, response, exception };
}
