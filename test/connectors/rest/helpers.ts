/** Builders shared by the REST connector tests: resources, an ExtractContext, and draining an extraction. */

import type { RestRuntimeOptions } from '../../../src/connectors/rest/index.js';
import type { ExtractContext, Extraction, ExtractProgress } from '../../../src/connectors/types.js';
import { ExtractError } from '../../../src/connectors/types.js';
import type { RestConnector, RestSource } from '../../../src/generated/types.js';
import type { Logger } from '../../../src/log/logger.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Connector, Task } from '../../../src/model/resources.js';
import { LocalSecretResolver, type SecretResolver } from '../../../src/secrets/resolver.js';

export const NAMESPACE = 'iga';

/** Retries without noticeable waits, so that fault tests stay fast. */
export const FAST: RestRuntimeOptions = { retry: { baseDelayMs: 5, maxDelayMs: 20 } };

export function connector(rest: RestConnector): Connector {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Connector',
    metadata: { name: 'hr-api', namespace: NAMESPACE },
    spec: { type: 'rest', rest },
  };
}

export function task(source: RestSource): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'hr-employees', namespace: NAMESPACE },
    spec: { connectorRef: { name: 'hr-api' }, usage: 'scheduled', mappingsType: 'generic', source: { rest: source } },
  };
}

export interface TestContext extends ExtractContext {
  progressCalls: ExtractProgress[];
}

export function context(
  rest: RestConnector,
  source: RestSource,
  extra: { secrets?: SecretResolver; log?: Logger; signal?: AbortSignal } = {},
): TestContext {
  const progressCalls: ExtractProgress[] = [];
  return {
    connector: connector(rest),
    task: task(source),
    namespace: NAMESPACE,
    secrets: extra.secrets ?? new LocalSecretResolver(undefined, {}),
    signal: extra.signal ?? new AbortController().signal,
    log: extra.log ?? silentLogger,
    mode: 'full',
    cursors: {},
    progress: (p) => progressCalls.push({ ...p }),
    progressCalls,
  };
}

/** Drains an extraction into the records' data. */
export async function collect(extraction: Extraction): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for await (const record of extraction) {
    if (record.kind !== 'generic') throw new Error(`unexpected record kind ${record.kind}`);
    out.push(record.data);
  }
  return out;
}

/** Drains an extraction that must fail; returns the rows read before the error and the ExtractError. */
export async function collectFailure(
  extraction: Extraction,
): Promise<{ rows: Array<Record<string, unknown>>; error: ExtractError }> {
  const rows: Array<Record<string, unknown>> = [];
  try {
    for await (const record of extraction) rows.push(record.data);
  } catch (e) {
    if (e instanceof ExtractError) return { rows, error: e };
    throw e;
  }
  throw new Error(`extraction succeeded with ${rows.length} rows; a failure was expected`);
}

export const ids = (rows: Array<Record<string, unknown>>): unknown[] => rows.map((r) => r.id);
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
