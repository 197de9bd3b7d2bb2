/** The resource model: generated types plus the names and helpers every concern shares. */
import type { Connector, ConnectorSpec, Task, TaskSpec } from '../generated/types.js';

export type {
  Condition,
  Connector,
  ConnectorSpec,
  ConnectorStatus,
  SecretRef,
  Task,
  TaskAttributeMapping,
  TaskMapping,
  TaskRunSummary,
  TaskSpec,
  TaskStatus,
} from '../generated/types.js';

export const API_VERSION = 'provisio.dev/v1alpha1';
export const KINDS = ['Connector', 'Task'] as const;
export type Kind = (typeof KINDS)[number];
export type Resource = Connector | Task;
export type ConnectorType = ConnectorSpec['type'];
export type Usage = TaskSpec['usage'];

/** Operations requested by annotation (DESIGN §1), the same in git and Kubernetes mode. */
export const ANNOTATIONS = {
  requestedAt: 'provisio.dev/requestedAt',
  stopRequestedAt: 'provisio.dev/stopRequestedAt',
  clearCacheRequestedAt: 'provisio.dev/clearCacheRequestedAt',
  /** `provisio clear-cache --cursor`: the cache clear that also resets the incremental cursors. */
  clearCursorRequestedAt: 'provisio.dev/clearCursorRequestedAt',
} as const;

export const DEFAULT_NAMESPACE = 'default';

export const namespaceOf = (r: { metadata: { namespace?: string } }): string =>
  r.metadata.namespace ?? DEFAULT_NAMESPACE;

/** `namespace/name`, the key a resource has within its kind. */
export const keyOf = (r: { metadata: { name: string; namespace?: string } }): string =>
  `${namespaceOf(r)}/${r.metadata.name}`;

export const refKey = (namespace: string, name: string): string => `${namespace}/${name}`;
