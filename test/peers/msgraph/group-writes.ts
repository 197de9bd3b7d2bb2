/**
 * Group writes of the simulator (see writes.ts), as msgraph-api.md "Writes" gives them:
 *   POST   /groups                               needs displayName, mailEnabled, mailNickname, securityEnabled
 *                                                (400 naming the missing one); 201 with the group
 *   PATCH  /groups/{id}                          204; DELETE /groups/{id} 204; an unknown group 404
 *   POST   /groups/{id}/members/$ref             {"@odata.id": ".../directoryObjects/{id}"} 204; a duplicate 400
 *   DELETE /groups/{id}/members/{memberId}/$ref  204; a non-member 404
 * A 404 names the object it could not find (the group, or the member), as Graph's
 * "Resource '…' does not exist or one of its queried reference-property objects are not present." does.
 */
import { randomUUID } from 'node:crypto';
import { type Answer, graphError } from './answers.js';
import { GROUP_PROPERTIES, type Obj } from './directory.js';
import type { GraphSimulator } from './server.js';
import { jsonBody, type WriteHandler, type WriteRequest } from './writes.js';

const REQUIRED = ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled'];
/** Properties a client may send; the read-only ones (id, createdDateTime, mail) are refused. */
const WRITABLE = new Set(
  [...GROUP_PROPERTIES, 'visibility'].filter((p) => !['id', 'createdDateTime', 'mail'].includes(p)),
);

export const notFound = (id: string): Answer =>
  graphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

const noProperty = (name: string): Answer =>
  graphError(
    400,
    'Request_BadRequest',
    `Property '${name}' does not exist as a declared property or extension property.`,
  );

/** jsonBody's 400 rather than a body (a JSON body is a group's properties, which never hold `status`). */
export const isAnswer = (v: Obj | Answer): v is Answer =>
  typeof (v as Answer).status === 'number' && Object.keys(v).every((k) => ['status', 'headers', 'body'].includes(k));

const segment = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** The body's properties, or the 400 for one a group does not have (or cannot be written). */
function properties(req: WriteRequest): Obj | Answer {
  const body = jsonBody(req);
  if (isAnswer(body)) return body;
  const bad = Object.keys(body).find((k) => !WRITABLE.has(k));
  return bad ? noProperty(bad) : body;
}

function create(req: WriteRequest, sim: GraphSimulator): Answer {
  const body = properties(req);
  if (isAnswer(body)) return body;
  const missing = REQUIRED.find((p) => body[p] === undefined || body[p] === null || body[p] === '');
  if (missing) {
    return graphError(400, 'Request_BadRequest', `A value is required for property '${missing}' of resource 'Group'.`);
  }
  const id = randomUUID();
  const group: Obj = { groupTypes: [], ...body, id, createdDateTime: new Date().toISOString() };
  sim.dir.addGroup(group);
  return {
    status: 201,
    headers: { Location: `${sim.url}/v1.0/directoryObjects/${id}/Microsoft.DirectoryServices.Group` },
    body: { '@odata.context': `${sim.url}/v1.0/$metadata#groups/$entity`, ...group },
  };
}

/** The member id of an `@odata.id` such as https://graph.microsoft.com/v1.0/directoryObjects/{id}. */
function referencedId(req: WriteRequest): string | Answer {
  const body = jsonBody(req);
  if (isAnswer(body)) return body;
  const ref = body['@odata.id'];
  const m = typeof ref === 'string' ? /\/v1\.0\/(?:directoryObjects|users|groups)\/([^/?#]+)$/.exec(ref) : null;
  if (!m) {
    return graphError(400, 'Request_BadRequest', 'Invalid URL format specified in @odata.id for the reference.');
  }
  return segment(m[1]);
}

function addMember(req: WriteRequest, sim: GraphSimulator, group: string): Answer {
  const member = referencedId(req);
  if (typeof member !== 'string') return member;
  if (!sim.dir.object(member)) return notFound(member);
  if (sim.dir.members.get(group)?.has(member)) {
    return graphError(
      400,
      'Request_BadRequest',
      "One or more added object references already exist for the following modified properties: 'members'.",
    );
  }
  sim.dir.addMember(group, member);
  return { status: 204 };
}

export const groupWrites: WriteHandler = (req, sim) => {
  const parts = req.path.split('/').slice(1);
  if (parts[0] !== 'groups') return undefined;
  if (parts.length === 1) return req.method === 'POST' ? create(req, sim) : undefined;
  const id = segment(parts[1]);
  if (!sim.dir.groups.has(id)) return notFound(id);
  if (parts.length === 2 && req.method === 'PATCH') {
    const body = properties(req);
    if (isAnswer(body)) return body;
    sim.dir.updateGroup(id, body);
    return { status: 204 };
  }
  if (parts.length === 2 && req.method === 'DELETE') {
    sim.dir.deleteGroup(id);
    return { status: 204 };
  }
  if (parts[2] !== 'members') return undefined;
  if (parts.length === 4 && parts[3] === '$ref' && req.method === 'POST') return addMember(req, sim, id);
  if (parts.length === 5 && parts[4] === '$ref' && req.method === 'DELETE') {
    const member = segment(parts[3]);
    if (!sim.dir.members.get(id)?.has(member)) return notFound(member);
    sim.dir.removeMember(id, member);
    return { status: 204 };
  }
  return undefined;
};
