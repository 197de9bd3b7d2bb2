/**
 * Reads the connector and task blocks and applies the defaults written in schemas/connectors/ldap.json, so that
 * the rest of the folder works with complete, validated settings.
 */
import type { LdapConnector, LdapSource } from '../../generated/types.js';
import { parseDuration } from '../../model/duration.js';
import type { Connector, Task } from '../../model/resources.js';
import { ExtractError } from '../types.js';

export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_USERS_FILTER = '(objectClass=person)';
export const DEFAULT_GROUPS_FILTER = '(objectClass=groupOfNames)';

export type Flavor = 'openldap' | 'activeDirectory';

export interface LdapSettings {
  block: LdapConnector;
  flavor: Flavor;
  url: URL;
  secure: boolean;
  pageSize: number;
  timeoutMs: number;
}

export function ldapSettings(connector: Connector): LdapSettings {
  const block = connector.spec.ldap;
  if (!block) throw new ExtractError(`connector "${connector.metadata.name}" has no spec.ldap block`);
  let url: URL;
  try {
    url = new URL(block.url);
  } catch {
    throw new ExtractError(`spec.ldap.url "${block.url}" is not a valid ldap:// or ldaps:// URL`);
  }
  return {
    block,
    flavor: block.flavor ?? 'openldap',
    url,
    secure: url.protocol === 'ldaps:',
    pageSize: block.pageSize ?? DEFAULT_PAGE_SIZE,
    timeoutMs: block.timeout ? parseDuration(block.timeout) : DEFAULT_TIMEOUT_MS,
  };
}

export interface KindSource {
  baseDn: string;
  filter: string;
  /** The field the filter came from, for messages. */
  filterField: string;
}

export function ldapSource(task: Task, s: LdapSettings): { users: KindSource; groups: KindSource } {
  const src: LdapSource = task.spec.source?.ldap ?? {};
  const groupsDefault = s.flavor === 'activeDirectory' ? '(objectClass=group)' : DEFAULT_GROUPS_FILTER;
  const usersDefault =
    s.flavor === 'activeDirectory' ? '(&(objectCategory=person)(objectClass=user))' : DEFAULT_USERS_FILTER;
  return {
    users: {
      baseDn: src.usersBaseDn || s.block.baseDn,
      filter: src.usersFilter ?? usersDefault,
      filterField: 'spec.source.ldap.usersFilter',
    },
    groups: {
      baseDn: src.groupsBaseDn || s.block.baseDn,
      filter: src.groupsFilter ?? groupsDefault,
      filterField: 'spec.source.ldap.groupsFilter',
    },
  };
}
