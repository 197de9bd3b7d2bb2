/**
 * Writes to the simulator's generic collections (see writes.ts): `sim.dir.collections` by path (`/devices`,
 * `/applications`, `/contacts`). POST /{collection} answers 201 with the object and its new id; PATCH and DELETE
 * /{collection}/{id} answer 204, an unknown id 404 Request_ResourceNotFound. A write to a single-segment path that
 * is no collection of the tenant is Graph's 400 for an unknown segment. Users and groups are the other areas'.
 */
import { randomUUID } from 'node:crypto';
import { type Answer, graphError } from './answers.js';
import { isAnswer, notFound } from './group-writes.js';
import { jsonBody, type WriteHandler } from './writes.js';

const OWN_AREAS = new Set(['users', 'groups', '$batch']);

export const objectWrites: WriteHandler = (req, sim) => {
  const parts = req.path.split('/').slice(1);
  if (parts.length === 0 || parts.length > 2 || OWN_AREAS.has(parts[0])) return undefined;
  const collection = `/${parts[0]}`;
  if (!sim.dir.collections.has(collection)) {
    return graphError(400, 'BadRequest', `Resource not found for the segment '${parts[0]}'.`);
  }
  if (parts.length === 1) {
    if (req.method !== 'POST') return undefined;
    const body = jsonBody(req);
    if (isAnswer(body)) return body;
    const created = { ...body, id: randomUUID() };
    sim.dir.addObject(collection, created);
    return {
      status: 201,
      body: { '@odata.context': `${sim.url}/v1.0/$metadata#${parts[0]}/$entity`, ...created },
    } satisfies Answer;
  }
  let id = parts[1];
  try {
    id = decodeURIComponent(id);
  } catch {
    // an undecodable id is no object's
  }
  if (!sim.dir.collections.get(collection)?.some((o) => o.id === id)) return notFound(id);
  if (req.method === 'PATCH') {
    const body = jsonBody(req);
    if (isAnswer(body)) return body;
    if ('id' in body) return graphError(400, 'Request_BadRequest', "Property 'id' is read-only and cannot be set.");
    sim.dir.updateObject(collection, id, body);
    return { status: 204 };
  }
  if (req.method === 'DELETE') {
    sim.dir.deleteObject(collection, id);
    return { status: 204 };
  }
  return undefined;
};
