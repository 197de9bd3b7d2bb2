/** The settings of a script connector and its tasks, read from the resources with their defaults applied. */
import { parseDuration } from '../../model/duration.js';
import type { Connector, Task } from '../../model/resources.js';
import { DEFAULT_EVENT_TIMEOUT } from '../kit/activity/run.js';
import { ExtractError } from '../types.js';

export type ScriptBlock = NonNullable<Connector['spec']['script']>;
export type ScriptSource = NonNullable<NonNullable<Task['spec']['source']>['script']>;

export const DEFAULT_TIMEOUT = '2h';
export const DEFAULT_HEARTBEAT_TIMEOUT = '5m';

export function scriptBlock(connector: Connector): ScriptBlock {
  const block = connector.spec.script;
  if (!block) throw new ExtractError('the connector has no spec.script block');
  return block;
}

export interface Limit {
  ms: number;
  /** For messages: `spec.script.timeout (2h)`. */
  name: string;
}

function limit(value: string | undefined, fallback: string, field: string): Limit {
  const text = value ?? fallback;
  const ms = parseDuration(text);
  return { ms, name: `${field} (${text})` };
}

export const runTimeout = (b: ScriptBlock): Limit => limit(b.timeout, DEFAULT_TIMEOUT, 'spec.script.timeout');
export const heartbeatTimeout = (b: ScriptBlock): Limit =>
  limit(b.heartbeatTimeout, DEFAULT_HEARTBEAT_TIMEOUT, 'spec.script.heartbeatTimeout');
export const eventTimeout = (task: Task): Limit =>
  limit(task.spec.event?.timeout, DEFAULT_EVENT_TIMEOUT, 'spec.event.timeout');

export const interpreterOf = (b: ScriptBlock): string => b.interpreter ?? 'python3';

/** The task's mapping block (script connectors load generic objects). */
export function mappingOf(task: Task) {
  const m = task.spec.mappings;
  return m?.generic ?? m?.identity ?? m?.access;
}

/**
 * `data_extraction_attributes` of the argument set: every mapped external attribute once, in mapping order,
 * with whether its values are a list (named in source.script.multivalue, or a reference list).
 */
export function extractionAttributes(task: Task): Array<{ attributeName: string; multivalue: boolean }> {
  const multi = new Set(task.spec.source?.script?.multivalue ?? []);
  const seen = new Map<string, boolean>();
  for (const a of mappingOf(task)?.attributes ?? []) {
    const isMulti = multi.has(a.external) || a.references !== undefined;
    seen.set(a.external, (seen.get(a.external) ?? false) || isMulti);
  }
  return [...seen].map(([attributeName, multivalue]) => ({ attributeName, multivalue }));
}
