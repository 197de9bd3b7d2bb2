/**
 * From a workflow's card attributes (`data`, local names) to the other instance's attribute codes, through the
 * task's generic mapping (local → external), as `{code: {values: [...]}}`. Only attributes present in `data`
 * are written (null clears one); ISO dates and date-times are written in the task's event formats
 * (`event.dateFormat`, `event.dateTimeFormat`), as the seeds do for every event connector.
 */
import type { Task, TaskMapping } from '../../../model/resources.js';
import { writeValues } from '../../../targets/m42/api/card-values.js';
import type { TemplateInfo, WriteData } from '../../../targets/m42/api/types.js';
import { dateValueFormatter } from '../../kit/date-format.js';
import { InvalidInvocationError, type InvokeData } from '../../types.js';

export function genericMapping(task: Task): TaskMapping {
  const m = task.spec.mappings?.generic;
  if (!m || (m.attributes ?? []).length === 0) {
    throw new InvalidInvocationError(`task ${task.metadata.name} has no spec.mappings.generic attributes to write`);
  }
  return m;
}

/** The unique mapping: which local attribute of `data` finds the remote card, and its remote code. */
export function uniqueOf(mapping: TaskMapping): { local: string; external: string } {
  const u = mapping.attributes.find((a) => a.unique) ?? mapping.attributes[0];
  return { local: u.local, external: u.external };
}

export function cardData(task: Task, template: TemplateInfo, data: InvokeData): WriteData {
  const mapping = genericMapping(task);
  const event = task.spec.event ?? {};
  const format = dateValueFormatter({ dateFormat: event.dateFormat, dateTimeFormat: event.dateTimeFormat });
  const out: WriteData = {};
  for (const a of mapping.attributes) {
    if (a.local === 'reference' || !(a.local in data)) continue;
    const attr = template.attributes?.[a.external];
    if (!attr) {
      throw new InvalidInvocationError(
        `mapping ${a.local} → ${a.external}: template "${template.code}" of the other instance has no attribute "${a.external}"`,
      );
    }
    const raw = data[a.local];
    const value =
      typeof raw === 'string'
        ? format(raw)
        : Array.isArray(raw)
          ? raw.map((v) => (typeof v === 'string' ? format(v) : v))
          : raw;
    out[a.external] = { values: writeValues(value, attr.type) };
  }
  return out;
}
