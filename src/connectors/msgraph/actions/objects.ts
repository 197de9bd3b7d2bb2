/**
 * Custom objects (the seeds' devices, contacts, applications): input {objectClass: a Graph collection name, one
 * plain path segment such as `devices`}, the object's properties from the task's generic mapping.
 *   createCustomObject   POST /{objectClass} with the mapped properties `data` holds → 201, response {id}
 *   updateCustomObject   PATCH /{objectClass}/{id} → 204
 *   deleteCustomObject   DELETE /{objectClass}/{id} → 204
 * The object is the generic mapping's unique attribute: its id when that maps `id`, else found by $filter.
 */
import { type ActionHandler, InvalidInvocationError, type InvokeData } from '../../types.js';
import { graphBody, onlyInput, requireMapping, writtenProperties } from './mapping.js';
import { objectPath, resolveId } from './resolve.js';
import { activity, completed, record, text } from './run.js';

/** One path segment of letters and digits: never a second segment, a query or `..`. */
const SEGMENT = /^[A-Za-z][A-Za-z0-9]*$/;

function objectClass(name: string, input: Record<string, unknown>): string {
  onlyInput(name, input, ['objectClass']);
  const cls = input.objectClass;
  if (typeof cls !== 'string' || !SEGMENT.test(cls)) {
    throw new InvalidInvocationError(
      `input.objectClass must be a Graph collection name such as devices, applications or contacts (letters and ` +
        `digits, one path segment)${cls === undefined ? '' : `, not ${JSON.stringify(cls)}`}`,
    );
  }
  return `/${cls}`;
}

function properties(name: string, ctx: Parameters<ActionHandler>[0], data: InvokeData) {
  const written = writtenProperties(requireMapping(ctx.task, 'generic', name), data);
  if (written.length === 0) {
    throw new InvalidInvocationError(`${name}: data holds none of the properties spec.mappings.generic writes`);
  }
  return graphBody(written);
}

export const createCustomObject: ActionHandler = (ctx, input, data) => {
  const collection = objectClass('createCustomObject', input);
  const body = properties('createCustomObject', ctx, data);
  return activity(ctx, async (run) => {
    const answer = await run.request('POST', collection, body);
    return completed(answer.status, { id: text(record(answer.body).id) });
  });
};

export const updateCustomObject: ActionHandler = (ctx, input, data) => {
  const collection = objectClass('updateCustomObject', input);
  const body = properties('updateCustomObject', ctx, data);
  return activity(ctx, async (run) => {
    const id = await resolveId(run, 'generic', data, 'updateCustomObject', collection);
    const { status } = await run.request('PATCH', objectPath(collection, id), body);
    return completed(status, { id });
  });
};

export const deleteCustomObject: ActionHandler = (ctx, input, data) => {
  const collection = objectClass('deleteCustomObject', input);
  requireMapping(ctx.task, 'generic', 'deleteCustomObject');
  return activity(ctx, async (run) => {
    const id = await resolveId(run, 'generic', data, 'deleteCustomObject', collection);
    const { status } = await run.request('DELETE', objectPath(collection, id));
    return completed(status, { id });
  });
};
