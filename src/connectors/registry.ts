/** Every connector type Provisio knows. Adding a type: add its folder and one line here. */
import type { ConnectorType as TypeName } from '../model/resources.js';
import type { TypeRules } from '../validation/type-rules.js';
import { ldapConnector } from './ldap/index.js';
import { m42Connector } from './m42/index.js';
import { msgraphConnector } from './msgraph/index.js';
import { restConnector } from './rest/index.js';
import { scimConnector } from './scim/index.js';
import { scriptConnector } from './script/index.js';
import type { ConnectorType } from './types.js';

const TYPES: readonly ConnectorType[] = [
  restConnector,
  m42Connector,
  msgraphConnector,
  scimConnector,
  ldapConnector,
  scriptConnector,
];

const byName = new Map<string, ConnectorType>(TYPES.map((t) => [t.type, t]));

export function connectorType(name: TypeName): ConnectorType {
  const t = byName.get(name);
  if (!t) throw new Error(`unknown connector type ${name}`);
  return t;
}

export const connectorTypes = (): readonly ConnectorType[] => TYPES;

/** The connector types as validation sees them (validation cannot import connectors/: callers pass this in). */
export const typeRules: TypeRules = (name) => byName.get(name);
