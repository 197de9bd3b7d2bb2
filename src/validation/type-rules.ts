/**
 * What validation needs to know about connector types. The types live in connectors/ (a layer above this
 * one), so validation never imports them: whoever calls the validator (the CLI, the controller) passes a
 * TypeRules lookup built from the connector registry.
 */
import type { Connector, SecretRef, Task } from '../model/resources.js';
import type { PathSegment } from './diagnostics.js';

/** A finding of a connector type's own rules, at a field path of the resource it was asked about. */
export interface TypeRuleFinding {
  path: PathSegment[];
  /** `key`: the finding is about the field's name (an unknown block), not its value. */
  at?: 'value' | 'key';
  severity: 'error' | 'warning';
  message: string;
}

export interface ConnectorTypeRules {
  /** Task usages the type supports. */
  usages: readonly string[];
  /** Whether `fetch: incremental` is supported. */
  incremental: boolean;
  /** The task `mappingsType`s the type can load. */
  mappingsTypes: readonly string[];
  /** Every secret the connector block references. */
  secretRefs(connector: Connector): Array<{ ref: SecretRef; field: string[] }>;
  /**
   * Checks of a connector block the schema cannot say. They also run on a connector with schema errors
   * (so that fixing one does not reveal the next): read its fields defensively.
   */
  validateConnector?(connector: Connector): TypeRuleFinding[];
  /**
   * Checks of a task against its connector (which passed its schema). The task may not have: read its
   * fields defensively.
   */
  validateTask?(task: Task, connector: Connector): TypeRuleFinding[];
  /** Checks across all (schema-valid) tasks of one connector; each finding names its task. */
  validateTaskSet?(tasks: readonly Task[], connector: Connector): Array<TypeRuleFinding & { task: Task }>;
}

/** The rules of a connector type by name; undefined for a name no type has. */
export type TypeRules = (type: string) => ConnectorTypeRules | undefined;
