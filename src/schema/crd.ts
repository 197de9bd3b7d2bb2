/**
 * Renders CustomResourceDefinitions (apiextensions.k8s.io/v1) from the bundled JSON Schemas.
 *
 * Kubernetes only accepts *structural* schemas: every node typed, no $ref, no JSON-Schema-only
 * keywords. Cross-field rules travel as CEL `x-kubernetes-validations`, which the schemas already
 * carry, so the API server enforces the same rules as `provisio validate`.
 */
import { stringify } from 'yaml';
import type { JsonSchema } from './bundle.js';

export const GROUP = 'provisio.dev';
export const VERSION = 'v1alpha1';

/** Keywords a structural schema may carry; everything else is dropped. */
const KEEP = new Set([
  'type',
  'description',
  'properties',
  'items',
  'additionalProperties',
  'required',
  'enum',
  'default',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'x-kubernetes-validations',
  'x-kubernetes-preserve-unknown-fields',
]);

function inline(node: JsonSchema, defs: Record<string, JsonSchema>, depth = 0): JsonSchema {
  if (depth > 40) throw new Error('schema nests too deeply (recursive $ref?)');
  let merged = node;
  if (typeof node.$ref === 'string') {
    const name = node.$ref.replace('#/definitions/', '');
    const target = defs[name];
    if (!target) throw new Error(`unresolved ${node.$ref}`);
    const { $ref: _ref, ...siblings } = node;
    // A description next to a $ref is more specific than the target's own.
    merged = { ...target, ...siblings };
    if (typeof merged.$ref === 'string') return inline(merged, defs, depth + 1);
  }
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(merged)) {
    if (k === 'const') out.enum = [v];
    else if (KEEP.has(k)) out[k] = v;
  }
  if (Array.isArray(out.type)) {
    // Unions (string | number | boolean) are not structural: let the value through unchecked.
    delete out.type;
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, JsonSchema>).map(([p, s]) => [p, inline(s, defs, depth + 1)]),
    );
    // Kubernetes prunes unknown fields instead of rejecting them; both keywords together are invalid.
    delete out.additionalProperties;
  } else if (out.additionalProperties === true) {
    delete out.additionalProperties;
    out['x-kubernetes-preserve-unknown-fields'] = true;
  } else if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = inline(out.additionalProperties as JsonSchema, defs, depth + 1);
  } else {
    delete out.additionalProperties;
  }
  if (out.items) out.items = inline(out.items as JsonSchema, defs, depth + 1);
  return out;
}

export interface CrdNames {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  jsonPath: string;
  description?: string;
  priority?: number;
}

const READY_COLUMN: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the resource is ready',
};
const AGE_COLUMN: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const CRD_SPECS: Array<{ names: CrdNames; columns: PrinterColumn[] }> = [
  {
    names: { kind: 'Connector', plural: 'connectors', singular: 'connector', shortNames: ['conn'] },
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Kind of system' },
      { name: 'Health', type: 'string', jsonPath: '.status.health', description: 'Health of the scheduled tasks' },
      { name: 'Scheduled', type: 'integer', jsonPath: '.status.scheduledTasks', description: 'Scheduled tasks' },
      { name: 'Event', type: 'integer', jsonPath: '.status.eventTasks', description: 'Event tasks' },
      READY_COLUMN,
      AGE_COLUMN,
    ],
  },
  {
    names: { kind: 'Task', plural: 'tasks', singular: 'task', shortNames: ['ptask'] },
    columns: [
      { name: 'Connector', type: 'string', jsonPath: '.spec.connectorRef.name', description: 'Connector used' },
      { name: 'Usage', type: 'string', jsonPath: '.spec.usage', description: 'scheduled, event or authentication' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'What the task is doing' },
      { name: 'Last run', type: 'date', jsonPath: '.status.lastRun.startTime', description: 'Start of the last run' },
      { name: 'Next run', type: 'date', jsonPath: '.status.nextRunTime', description: 'Next scheduled run' },
      READY_COLUMN,
      AGE_COLUMN,
    ],
  },
];

/** Builds one CRD object from a bundled resource schema. */
export function renderCrd(bundle: JsonSchema, names: CrdNames, columns: PrinterColumn[]): JsonSchema {
  const defs = (bundle.definitions ?? {}) as Record<string, JsonSchema>;
  const props = bundle.properties as Record<string, JsonSchema>;
  const openAPIV3Schema: JsonSchema = {
    type: 'object',
    description: bundle.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion of this object: provisio.dev/v1alpha1.' },
      kind: { type: 'string', description: `Kind of this object: ${names.kind}.` },
      metadata: { type: 'object' },
      spec: inline(props.spec, defs),
      status: inline(props.status, defs),
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'provisio' } },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { ...names, listKind: `${names.kind}List`, categories: ['provisio'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

export function crdYaml(crd: JsonSchema): string {
  return stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false });
}
