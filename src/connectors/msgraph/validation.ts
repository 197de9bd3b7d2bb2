/**
 * What the schema cannot say about a Graph task: filter settings Graph would refuse or the connector cannot
 * send, a generic task without a query, subquery templates, and what an incremental task cannot do because a
 * delta round cannot filter and reports membership changes on groups only. Each finding says why.
 */
import type { Connector, Task } from '../../model/resources.js';
import type { TypeFinding } from '../types.js';
import { validateGraphEventTask } from './event-validation.js';
import { compileLocalFilter, LocalFilterError } from './local-filter.js';
import { FilterSettingError, parseFilterSetting } from './query.js';
import { graphProperty } from './select.js';

const SOURCE = ['spec', 'source', 'msgraph'];

export function validateGraphTask(task: Task, _connector: Connector): TypeFinding[] {
  const source = task.spec.source?.msgraph;
  const findings: TypeFinding[] = [];
  const error = (path: Array<string | number>, message: string) => findings.push({ path, severity: 'error', message });
  const mt = task.spec.mappingsType ?? 'identityAndAccess';
  const incremental = task.spec.fetch === 'incremental';
  if (task.spec.usage === 'event') return validateGraphEventTask(task);
  // Without a source.msgraph block the validator already says which block is missing or of the wrong type.
  if ((task.spec.usage !== undefined && task.spec.usage !== 'scheduled') || !source) return findings;
  if (mt === 'generic') {
    if (!source?.query)
      error(
        [...SOURCE, 'query'],
        'a generic Microsoft Graph task needs a query (a Graph path such as /deviceManagement/managedDevices)',
      );
    else if (!source.query.startsWith('/'))
      error([...SOURCE, 'query'], `query "${source.query}" must be a Graph path starting with /`);
    if (incremental) error(['spec', 'fetch'], 'generic Microsoft Graph queries have no delta: use fetch: full');
    (source?.subqueries ?? []).forEach((t, i) => {
      if (!t.startsWith('/'))
        error([...SOURCE, 'subqueries', i], `subquery "${t}" must be a Graph path starting with /`);
      if (!/\{[^{}]+\}/.test(t))
        error(
          [...SOURCE, 'subqueries', i],
          `subquery "${t}" has no {attribute} placeholder: it would read the same object for every record`,
        );
    });
    return findings;
  }
  for (const field of ['usersFilter', 'groupsFilter'] as const) {
    const value = source?.[field];
    if (!value) continue;
    try {
      const q = parseFilterSetting(value);
      if (incremental && q.search)
        error([...SOURCE, field], `${field}: $search cannot be evaluated on delta results; use $filter or fetch: full`);
      if (incremental && q.filter) compileLocalFilter(q.filter);
    } catch (e) {
      if (e instanceof FilterSettingError) error([...SOURCE, field], `${field}: ${e.message}`);
      else if (e instanceof LocalFilterError) {
        error(
          [...SOURCE, field],
          `${field} cannot be evaluated on delta results (delta rounds cannot filter, so incremental tasks filter locally): ${e.message}`,
        );
      } else throw e;
    }
  }
  if (!incremental) return findings;
  const reason = 'delta rounds report membership changes on groups only';
  const mapsAttr = (kind: 'identity' | 'access', attr: string) =>
    (task.spec.mappings?.[kind]?.attributes ?? []).findIndex((a) => graphProperty(a.external) === attr);
  const userMemberOf = mapsAttr('identity', 'memberOf');
  if (userMemberOf >= 0 && (mt === 'identity' || mt === 'identityAndAccess')) {
    error(
      ['spec', 'mappings', 'identity', 'attributes', userMemberOf, 'external'],
      `memberOf of users cannot be kept up to date incrementally (${reason}); map members on the access mappings, or use fetch: full`,
    );
  }
  const groupMemberOf = mapsAttr('access', 'memberOf');
  if (groupMemberOf >= 0 && (mt === 'access' || mt === 'identityAndAccess')) {
    error(
      ['spec', 'mappings', 'access', 'attributes', groupMemberOf, 'external'],
      `memberOf of groups (nested groups) cannot be kept up to date incrementally (${reason}); use fetch: full`,
    );
  }
  for (const field of ['includeMembersOf', 'excludeMembersOf'] as const) {
    if (source?.[field]?.length)
      error(
        [...SOURCE, field],
        `${field} cannot be applied incrementally: a user whose group membership changes does not appear in /users/delta; use fetch: full`,
      );
  }
  return findings;
}
