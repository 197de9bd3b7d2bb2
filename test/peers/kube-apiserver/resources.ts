/**
 * The resource types the fake serves and how each behaves: names and scope (for routing and discovery), which
 * strategy rules apply (status subresource, generation, unconditional update, create-on-update), and how an
 * object is decoded and validated. Custom resources come from the CRD YAML files in `crds/`; the built-in types
 * (Secrets, Events, Leases, Namespaces) from builtins.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isObject, type KubeObject, type Obj } from './json.js';
import { type NameRule, pruneMeta } from './meta.js';
import { CrdSchema, type StructuralSchema } from './schema.js';
import type { FieldError } from './status.js';

export interface ResourceType {
  group: string;
  version: string;
  /** `provisio.dev/v1alpha1`, or `v1` for the core group. */
  apiVersion: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Key of the storage the objects live in (two API versions of Events share one). */
  storage: string;
  statusSubresource: boolean;
  /** metadata.generation is maintained (custom resources). */
  generation: boolean;
  custom: boolean;
  allowCreateOnUpdate: boolean;
  allowUnconditionalUpdate: boolean;
  /** Strategic merge patch is accepted (built-in types only; the real server answers 415 for custom resources). */
  strategicMerge: boolean;
  nameRule: NameRule;
  /** Field selector labels beyond metadata.name and metadata.namespace. */
  fieldLabels: Record<string, (o: KubeObject) => string | undefined>;
  /**
   * Decoding: drops unknown fields (their paths are returned, for warnings or strict field validation), applies
   * defaults and normalizes typed fields, in place. Throws an ApiError (400) for input that does not decode.
   */
  normalize(o: KubeObject): string[];
  /** What create may not set (e.g. the status of a resource with a status subresource). */
  prepareForCreate(o: KubeObject): void;
  /** What an update of the main resource may not change (e.g. status). */
  prepareForUpdate(o: KubeObject, old: KubeObject): void;
  /** Field errors of the object (metadata is checked by the registry); old is given on update. */
  validate(o: KubeObject, old?: KubeObject): FieldError[];
  /** API form → stored form, and back (the identity except for events.k8s.io Events). */
  toStorage(o: KubeObject): KubeObject;
  fromStorage(o: KubeObject): KubeObject;
}

export const groupResource = (t: ResourceType) => ({ group: t.group, resource: t.plural });

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface CrdDocument {
  kind: string;
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: {
      plural: string;
      singular?: string;
      kind: string;
      listKind?: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      schema?: { openAPIV3Schema: StructuralSchema };
    }[];
  };
}

/** One ResourceType per served version of a CustomResourceDefinition. */
export function crdTypes(crd: CrdDocument): ResourceType[] {
  const { group, names, scope } = crd.spec;
  return crd.spec.versions
    .filter((v) => v.served)
    .map((v) => {
      const schema = v.schema ? new CrdSchema(v.schema.openAPIV3Schema) : undefined;
      const statusSubresource = v.subresources?.status !== undefined;
      return {
        group,
        version: v.name,
        apiVersion: `${group}/${v.name}`,
        plural: names.plural,
        singular: names.singular ?? names.kind.toLowerCase(),
        kind: names.kind,
        listKind: names.listKind ?? `${names.kind}List`,
        namespaced: scope === 'Namespaced',
        shortNames: names.shortNames ?? [],
        categories: names.categories ?? [],
        verbs: ALL_VERBS,
        storage: `${group}/${names.plural}`,
        statusSubresource,
        generation: true,
        custom: true,
        allowCreateOnUpdate: false,
        allowUnconditionalUpdate: false,
        strategicMerge: false,
        nameRule: 'subdomain',
        fieldLabels: {},
        normalize(o) {
          const unknown = isObject(o.metadata) ? pruneMeta(o.metadata) : [];
          return [...unknown, ...(schema ? schema.normalize(o) : [])];
        },
        prepareForCreate(o) {
          if (statusSubresource) delete o.status;
        },
        prepareForUpdate(o, old) {
          if (!statusSubresource) return;
          if (old.status !== undefined) o.status = old.status;
          else delete o.status;
        },
        validate: (o) => (schema ? schema.check(o as Obj) : []),
        toStorage: (o) => o,
        fromStorage: (o) => o,
      } satisfies ResourceType;
    });
}

/** Reads every CustomResourceDefinition in the YAML files of a directory (or the given files). */
export function loadCrds(paths: string[]): ResourceType[] {
  const files = paths.flatMap((p) =>
    p.endsWith('.yaml') || p.endsWith('.yml')
      ? [p]
      : readdirSync(p)
          .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
          .sort()
          .map((f) => join(p, f)),
  );
  const types: ResourceType[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as CrdDocument | null;
      if (crd?.kind === 'CustomResourceDefinition') types.push(...crdTypes(crd));
    }
  }
  return types;
}

/** Finds resource types by group/version/plural and by kind, plural, singular or short name. */
export class TypeRegistry {
  constructor(readonly types: ResourceType[]) {}

  byPath(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  /** `Task`, `tasks`, `task`, `ptask`, or qualified `tasks.provisio.dev`; prefers the first registered match. */
  lookup(name: string): ResourceType {
    const lower = name.toLowerCase();
    const found = this.types.find(
      (t) =>
        t.kind === name ||
        t.plural === lower ||
        t.singular === lower ||
        t.shortNames.includes(lower) ||
        `${t.plural}.${t.group}` === lower ||
        `${t.kind.toLowerCase()}.${t.group}` === lower,
    );
    if (!found) throw new Error(`fake kube-apiserver: no resource type ${name}`);
    return found;
  }

  /** The type serving apiVersion + kind (as an object names them). */
  forObject(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => t.apiVersion === apiVersion && t.kind === kind);
  }
}
