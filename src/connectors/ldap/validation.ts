/**
 * The LDAP type's own validation rules: filters must parse as RFC 4515 (an error naming the field), and the
 * seeds' advice that incremental tasks should not import memberships is a warning. `onDeleted` on an
 * incremental task is only useful where deletes are read (OpenLDAP's accesslog, with entryUUID or dn unique;
 * AD tombstones, with objectGUID or objectSid unique).
 */
import type { Connector, Task } from '../../model/resources.js';
import type { TypeFinding } from '../types.js';
import { filterProblem } from './escape.js';
import { attributeOf } from './records.js';

const MEMBERSHIP = new Set(['member', 'memberof', 'uniquemember', 'memberuid']);

export function validateLdapTask(task: Task, connector: Connector): TypeFinding[] {
  const out: TypeFinding[] = [];
  const source = task.spec?.source?.ldap;
  for (const field of ['usersFilter', 'groupsFilter'] as const) {
    const f = source?.[field];
    if (typeof f !== 'string') continue;
    const problem = filterProblem(f);
    if (problem) out.push({ path: ['spec', 'source', 'ldap', field], severity: 'error', message: `${problem}: ${f}` });
  }
  if (task.spec?.fetch !== 'incremental' || task.spec.usage !== 'scheduled') return out;
  for (const kind of ['identity', 'access'] as const) {
    const attrs = task.spec.mappings?.[kind]?.attributes ?? [];
    attrs.forEach((a, i) => {
      if (typeof a?.external !== 'string' || !MEMBERSHIP.has(attributeOf(a.external).toLowerCase())) return;
      out.push({
        path: ['spec', 'mappings', kind, 'attributes', i, 'external'],
        severity: 'warning',
        message: `an incremental task imports memberships (${a.external}): a membership change does not always change the entry read, so memberships drift; import them with a full task`,
      });
    });
    const mapping = task.spec.mappings?.[kind];
    const unique = (mapping?.attributes?.find((a) => a.unique) ?? mapping?.attributes?.[0])?.external?.toLowerCase();
    if (
      mapping?.onDeleted &&
      connector.spec?.ldap?.flavor === 'activeDirectory' &&
      unique !== 'objectguid' &&
      unique !== 'objectsid'
    ) {
      out.push({
        path: ['spec', 'mappings', kind, 'onDeleted'],
        severity: 'warning',
        message:
          'incremental Active Directory reads see deletes as tombstones, which keep only objectGUID and objectSid: map one of them as the unique attribute, or deletions are marked by a full task only',
      });
    }
  }
  return out;
}
