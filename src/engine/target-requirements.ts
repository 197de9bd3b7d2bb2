/**
 * Before a run extracts anything, the target is asked whether it can take what the run will write
 * (Target.check: the m42 target holds the mappings against the home solution's templates). A run that
 * would only fail card by card fails at once instead, naming the attribute and the template, and nothing
 * is read from the source.
 */
import { RunFailure } from '../model/errors.js';
import type { TargetRequirement } from '../targets/types.js';
import type { RunContext } from './run-context.js';

export async function checkTarget(ctx: RunContext): Promise<void> {
  if (!ctx.target.check) return;
  let problems: string[];
  try {
    problems = await ctx.target.check(requirements(ctx));
  } catch (e) {
    // The target cannot be reached or refuses the login: nothing is extracted either.
    throw new RunFailure(
      `the ${ctx.target.name} target could not be checked, nothing was extracted: ${(e as Error).message}`,
      'TargetCheckFailed',
    );
  }
  if (problems.length === 0) return;
  throw new RunFailure(
    `the ${ctx.target.name} target cannot take this task's cards, nothing was extracted: ${problems.join('; ')}`,
    'TargetCheckFailed',
  );
}

export function requirements(ctx: Pick<RunContext, 'plans' | 'task'>): TargetRequirement[] {
  const out: TargetRequirement[] = [];
  for (const plan of ctx.plans.values()) {
    const b = plan.block;
    const field = `spec.mappings.${plan.kind}`;
    const refs = new Set((plan.upsertOptions.references ?? []).map((r) => r.attribute));
    const attributes = b.attributes.map((a, i) => ({
      name: a.local,
      field: `${field}.attributes[${i}].local`,
      reference: refs.has(a.local),
    }));
    if (b.taskIdAttribute)
      attributes.push({ name: b.taskIdAttribute, field: `${field}.taskIdAttribute`, reference: false });
    if (b.dataSourceTypeAttribute) {
      attributes.push({ name: b.dataSourceTypeAttribute, field: `${field}.dataSourceTypeAttribute`, reference: false });
    }
    if (b.onDeleted)
      attributes.push({ name: b.onDeleted.attribute, field: `${field}.onDeleted.attribute`, reference: false });
    out.push({ field, template: b.template, folder: b.folder, attributes });
  }
  const f = ctx.task.spec.failure;
  if (f) {
    out.push({
      field: 'spec.failure',
      template: f.template,
      folder: f.folder,
      attributes: [{ name: f.attribute, field: 'spec.failure.attribute' }],
    });
  }
  return out;
}
