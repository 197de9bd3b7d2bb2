/**
 * What a run checks before it extracts anything (issue #11 §2): the template of each mapping exists, its
 * folder is allowed for it, and every attribute the run writes is an attribute of the template — mapped
 * attributes, the task-id, data-source-type and onDeleted attributes, and the failure card's attribute.
 * A run that would only fail card by card fails here, naming the attribute and the template.
 */
import type { TargetRequirement } from '../types.js';
import type { TemplateInfo } from './api/types.js';

export function templateProblems(req: TargetRequirement, info: TemplateInfo | undefined): string[] {
  if (!info) return [`${req.field}: the home solution has no template "${req.template}"`];
  const problems: string[] = [];
  const folders = info.allowedFolders ?? [];
  if (req.folder !== undefined && !folders.some((f) => f.folderCode === req.folder)) {
    const allowed = folders.map((f) => f.folderCode).join(', ') || 'none';
    problems.push(
      `${req.field}: folder "${req.folder}" is not allowed for template "${req.template}" (allowed: ${allowed})`,
    );
  }
  for (const a of req.attributes) {
    const attr = info.attributes?.[a.name];
    if (!attr) {
      problems.push(`${a.field}: template "${req.template}" has no attribute "${a.name}"`);
      continue;
    }
    if (a.reference && attr.type !== 'reference') {
      problems.push(
        `${a.field}: attribute "${a.name}" of template "${req.template}" is of type ${attr.type}, not a reference; remove references: or map another attribute`,
      );
    } else if (!a.reference && attr.type === 'reference') {
      problems.push(
        `${a.field}: attribute "${a.name}" of template "${req.template}" is a reference; map it with references: <kind> so that its values become data cards`,
      );
    }
  }
  return problems;
}
