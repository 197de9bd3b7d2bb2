/**
 * From a workflow's card attributes to SCIM attributes, through the task's identity or access mapping (the
 * path rules are the kit's: kit/activity/mapping.ts). What is SCIM's own: the read-only attributes (ids,
 * `meta`, memberships: those have activities of their own) and the resource's `schemas`, extension URNs added.
 */
import type { Task, TaskMapping } from '../../../model/resources.js';
import * as kit from '../../kit/activity/mapping.js';
import type { InvokeData } from '../../types.js';

export { type Segment, setPath, type UniqueKey, type WrittenAttribute } from '../../kit/activity/mapping.js';
export type ScimObject = kit.UpstreamObject;
export type MappingKind = 'identity' | 'access';

const READ_ONLY = new Set(['id', 'meta', 'groups', 'members', 'schemas']);

export const pathSegments = kit.pathSegments;

/** The mapped attributes `data` carries, with their SCIM places (read-only paths left out). */
export const writtenAttributes = (mapping: TaskMapping, data: InvokeData): kit.WrittenAttribute[] =>
  kit.writtenAttributes(mapping, data, READ_ONLY);

/** The SCIM resource the attributes describe, with its `schemas`. */
export function buildResource(core: string, attributes: kit.WrittenAttribute[]): ScimObject {
  const body: ScimObject = {};
  for (const a of attributes) if (a.value !== null) kit.setPath(body, a.segments, a.value);
  const extensions = Object.keys(body).filter((k) => k.startsWith('urn:'));
  return { schemas: [core, ...extensions], ...body };
}

/** The task's mapping of a kind; a task without it cannot run the activity (400). */
export const requireMapping = (task: Task, kind: MappingKind, activity: string): TaskMapping =>
  kit.requireMapping(task, kind, activity, 'SCIM');

/** The mapping's unique attribute and its value in `data`: what identifies the user or group. */
export const uniqueKey = (mapping: TaskMapping, kind: MappingKind, data: InvokeData): kit.UniqueKey =>
  kit.uniqueKey(mapping, kind, data, 'SCIM');
