/**
 * How each record kind of a task is loaded: its compiled mapping, its deletion marking, the references its
 * attributes carry, and whether its records wait until the kinds they reference are loaded (DESIGN §4:
 * `references: access` on a user's groups attribute loads the groups first).
 */
import type { ConnectorType } from '../connectors/types.js';
import { RECORD_KINDS, type RecordKind } from '../model/records.js';
import type { Task, TaskMapping } from '../model/resources.js';
import type { UpsertOptions } from '../targets/types.js';
import { type CompiledMapping, compileMapping, type Stamps } from './mapper.js';

export interface KindPlan {
  kind: RecordKind;
  mapping: CompiledMapping;
  block: TaskMapping;
  /** What the target is told with every batch of this kind. */
  upsertOptions: UpsertOptions;
  /** Kinds this kind's attributes reference (other than itself): loaded before this kind's records. */
  dependsOn: RecordKind[];
}

export function planKinds(task: Task, type: ConnectorType, stamps: Stamps): Map<RecordKind, KindPlan> {
  const prefixes = type.mappingPrefixes?.(task) ?? [];
  const blocks = new Map<RecordKind, TaskMapping>();
  for (const kind of RECORD_KINDS) {
    const block = task.spec.mappings?.[kind] as TaskMapping | undefined;
    if (block) blocks.set(kind, block);
  }
  const plans = new Map<RecordKind, KindPlan>();
  for (const [kind, block] of blocks) {
    const mapping = compileMapping(block, prefixes, stamps);
    const references: NonNullable<UpsertOptions['references']>[number][] = [];
    const dependsOn = new Set<RecordKind>();
    for (const a of block.attributes) {
      const target = a.references && blocks.get(a.references);
      if (!a.references || !target) continue;
      const unique = target.attributes.find((x) => x.unique) ?? target.attributes[0];
      references.push({ attribute: a.local, template: target.template, uniqueAttribute: unique.local });
      if (a.references !== kind) dependsOn.add(a.references);
    }
    const onDeleted = block.onDeleted;
    plans.set(kind, {
      kind,
      mapping,
      block,
      upsertOptions: {
        ...(onDeleted ? { restore: { ...onDeleted } } : {}),
        ...(references.length > 0 ? { references } : {}),
      },
      dependsOn: [...dependsOn],
    });
  }
  // Two kinds that reference each other cannot wait for each other: both load as their records come.
  const mutual = (a: KindPlan, b: RecordKind) => plans.get(b)?.dependsOn.includes(a.kind) ?? false;
  const waits = new Map([...plans.values()].map((p) => [p.kind, p.dependsOn.filter((k) => !mutual(p, k))]));
  for (const plan of plans.values()) plan.dependsOn = waits.get(plan.kind) ?? [];
  return plans;
}
