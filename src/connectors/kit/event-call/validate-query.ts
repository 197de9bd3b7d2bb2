/**
 * (REST and SCIM validateTask) What validation says about a task's `spec.event.query` before any invocation:
 * the same encoded dot or slash rule the invocation applies (call-url.ts), as a finding at the field, so that
 * `provisio validate` names the file and line instead of every call answering 400.
 */
import type { Task } from '../../../model/resources.js';
import type { TypeFinding } from '../../types.js';
import { encodedPathProblem } from './call-url.js';

export function eventQueryFindings(task: Task): TypeFinding[] {
  const query: unknown = (task.spec as { event?: { query?: unknown } } | undefined)?.event?.query;
  if (typeof query !== 'string') return [];
  const problem = encodedPathProblem(query, 'spec.event.query');
  // The finding's path names the field: the message need not repeat it.
  return problem
    ? [{ path: ['spec', 'event', 'query'], severity: 'error', message: problem.replace(/^spec\.event\.query /, '') }]
    : [];
}
