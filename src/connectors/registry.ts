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

/**
 * The connector types a process knows, looked up by name. Injected into the engine, the controller and
 * validation, so that a test can run the engine on a connector type of its own.
 */
export interface ConnectorRegistry {
  get(type: TypeName): ConnectorType;
  /** The type, or undefined when this registry does not know it (validation names it then). */
  find(type: string): ConnectorType | undefined;
  all(): readonly ConnectorType[];
}

export function createRegistry(types: readonly ConnectorType[]): ConnectorRegistry {
  const byName = new Map<string, ConnectorType>(types.map((t) => [t.type, t]));
  return {
    get(name) {
      const t = byName.get(name);
      if (!t) throw new Error(`unknown connector type ${name}`);
      return t;
    },
    find: (name) => byName.get(name),
    all: () => types,
  };
}

/** The types Provisio ships. */
export const builtInConnectorTypes: ConnectorRegistry = createRegistry(TYPES);

export function connectorType(name: TypeName): ConnectorType {
  return builtInConnectorTypes.get(name);
}

export const connectorTypes = (): readonly ConnectorType[] => TYPES;

/** The connector types as validation sees them (validation cannot import connectors/: callers pass this in). */
export const typeRules: TypeRules = (name) => builtInConnectorTypes.find(name);
