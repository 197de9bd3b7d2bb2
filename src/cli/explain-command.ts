/**
 * `provisio explain TYPE[.FIELD...]` as `kubectl explain` prints it: the field's type, its description and its
 * fields, read from the bundled schemas (schemas/ is the one source of these descriptions).
 */
import { connectorSchema, taskSchema } from '../generated/schemas.js';
import type { JsonSchema } from '../schema/bundle.js';
import { UsageError } from './errors.js';

const ROOTS: Record<string, { kind: string; schema: JsonSchema }> = {
  connector: { kind: 'Connector', schema: connectorSchema },
  connectors: { kind: 'Connector', schema: connectorSchema },
  task: { kind: 'Task', schema: taskSchema },
  tasks: { kind: 'Task', schema: taskSchema },
};

function deref(root: JsonSchema, node: JsonSchema): JsonSchema {
  let n = node;
  for (let i = 0; i < 20 && typeof n.$ref === 'string'; i++) {
    const name = n.$ref.replace('#/definitions/', '');
    const target = (root.definitions as Record<string, JsonSchema>)[name];
    // A description beside the $ref is about this use of the type: it wins.
    n = { ...target, ...(n.description ? { description: n.description } : {}) };
  }
  return n;
}

function typeName(root: JsonSchema, node: JsonSchema): string {
  const n = deref(root, node);
  if (n.type === 'array') return `[]${typeName(root, (n.items ?? {}) as JsonSchema)}`;
  if (Array.isArray(n.type)) return n.type.join('|');
  if (typeof n.type === 'string') return n.type === 'object' ? 'Object' : n.type;
  if (n.properties) return 'Object';
  return n.oneOf || n.anyOf ? 'Object' : 'any';
}

function wrap(text: string, indent: string, width = 80): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && indent.length + cur.length + 1 + w.length > width) {
      lines.push(indent + cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(indent + cur);
  return lines.join('\n');
}

export function explain(path: string): string {
  const [type, ...fields] = path.split('.');
  const root = ROOTS[type.toLowerCase()];
  if (!root) throw new UsageError(`unknown resource type "${type}": use connector or task (e.g. task.spec.schedule)`);
  let node = root.schema;
  const walked: string[] = [];
  for (const f of fields) {
    const n = deref(root.schema, node);
    const target = n.type === 'array' ? deref(root.schema, (n.items ?? {}) as JsonSchema) : n;
    const props = (target.properties ?? {}) as Record<string, JsonSchema>;
    if (!(f in props)) {
      const at = [type, ...walked].join('.');
      throw new UsageError(`field "${f}" does not exist in ${at}: its fields are ${Object.keys(props).join(', ')}`);
    }
    node = props[f];
    walked.push(f);
  }
  const n = deref(root.schema, node);
  const out = [`KIND:       ${root.kind}`, 'VERSION:    provisio.dev/v1alpha1', ''];
  if (walked.length > 0) out.push(`FIELD: ${walked.at(-1)} <${typeName(root.schema, node)}>`, '');
  out.push('DESCRIPTION:', wrap(String(n.description ?? '<empty>'), '    '));
  const enumValues = (n.enum ?? (n.type === 'array' ? deref(root.schema, n.items as JsonSchema).enum : undefined)) as
    | unknown[]
    | undefined;
  if (enumValues) out.push('', 'ENUM:', ...enumValues.map((v) => `    ${String(v)}`));
  const target = n.type === 'array' ? deref(root.schema, (n.items ?? {}) as JsonSchema) : n;
  const props = (target.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((target.required ?? []) as string[]);
  if (Object.keys(props).length > 0) {
    out.push('', 'FIELDS:');
    for (const [name, p] of Object.entries(props)) {
      out.push(`  ${name}\t<${typeName(root.schema, p)}>${required.has(name) ? ' -required-' : ''}`);
      const d = deref(root.schema, p).description;
      if (d) out.push(wrap(String(d), '    '));
      out.push('');
    }
    out.pop();
  }
  return out.join('\n');
}
