/**
 * Loads the few records an event activity read (readUser with `load: true`) into the task's target cards,
 * mapped by the task's mappings exactly as a scheduled run maps its records (kind-plans.ts, mapper.ts), with
 * the same stamps, references and restore of a deletion marking. No task cache and no deletion marking: an
 * activity reads one object, it says nothing about the others.
 */
import { connectorType } from '../connectors/registry.js';
import type { ExtractedRecord } from '../model/records.js';
import { type Connector, namespaceOf, refKey, type Task } from '../model/resources.js';
import type { TargetFactory } from '../targets/types.js';
import { planKinds } from './kind-plans.js';

export interface LoadedRecords {
  created: number;
  updated: number;
  /** Why each record that was not loaded was not (no mapping for its kind, no unique value, refused). */
  failed: string[];
}

export async function loadActivityRecords(
  targets: TargetFactory,
  task: Task,
  connector: Connector,
  records: readonly ExtractedRecord[],
): Promise<LoadedRecords> {
  const taskKey = refKey(namespaceOf(task), task.metadata.name);
  const plans = planKinds(task, connectorType(connector.spec.type), {
    taskId: taskKey,
    connectorType: connector.spec.type,
  });
  const target = targets.targetFor(connector);
  const out: LoadedRecords = { created: 0, updated: 0, failed: [] };
  for (const record of records) {
    const plan = plans.get(record.kind);
    if (!plan) {
      out.failed.push(`a ${record.kind} record, but the task has no spec.mappings.${record.kind}`);
      continue;
    }
    const mapped = plan.mapping.map(record.data);
    if (mapped.key === undefined) {
      out.failed.push(`a ${record.kind} record without ${plan.mapping.uniqueExternal} (the unique attribute)`);
      continue;
    }
    const m = plan.mapping;
    const result = await target.upsert(
      m.template,
      m.folder,
      m.uniqueAttribute,
      [{ key: mapped.key, attributes: mapped.card, json: mapped.json }],
      plan.upsertOptions,
    );
    out.created += result.created;
    out.updated += result.updated;
    for (const f of result.failed) out.failed.push(`card ${f.key} of ${m.template}: ${f.error}`);
  }
  return out;
}
