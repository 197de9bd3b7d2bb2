/**
 * The body of POST .../tasks/{name}/invoke (DESIGN §3), checked before anything runs. Every
 * refusal says what to fix (an InvalidInvocationError: `server/` answers it with 400).
 */
import type { InvokeData } from '../connectors/types.js';
import { InvalidInvocationError } from '../model/errors.js';

export interface InvokeRequest {
  activity: string;
  input: Record<string, unknown>;
  data: InvokeData;
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export function parseInvokeRequest(body: unknown, activities: readonly string[]): InvokeRequest {
  const example = '{"activity": "restCall", "input": {"method": "GET", "url": "/users/$id$"}, "data": {"id": "42"}}';
  if (!isMap(body)) throw new InvalidInvocationError(`the request body must be a JSON object such as ${example}`);
  const { activity, input = {}, data = {} } = body;
  if (typeof activity !== 'string' || activity === '') {
    throw new InvalidInvocationError(`"activity" is required: one of ${activities.join(', ')}`);
  }
  if (!activities.includes(activity)) {
    throw new InvalidInvocationError(`unknown activity "${activity}": this task supports ${activities.join(', ')}`);
  }
  if (!isMap(input)) throw new InvalidInvocationError('"input" must be an object with the activity\'s parameters');
  if (!isMap(data))
    throw new InvalidInvocationError(
      '"data" must be an object of attribute values (and "reference" for referenced cards)',
    );
  if (data.reference !== undefined && !isMap(data.reference)) {
    throw new InvalidInvocationError('"data.reference" must map reference names to objects of attribute values');
  }
  const unknown = Object.keys(body).filter((k) => !['activity', 'input', 'data'].includes(k));
  if (unknown.length > 0)
    throw new InvalidInvocationError(
      `unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}: use activity, input, data`,
    );
  return { activity, input, data: data as InvokeData };
}
