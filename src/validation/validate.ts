/**
 * Validation of resource files: YAML, apiVersion/kind, schema and CEL rules per document, then the
 * checks across resources. One bad document never hides the findings of the others.
 */
import type { Connector, Kind, Task } from '../model/resources.js';
import { API_VERSION, KINDS, keyOf } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';
import { byLocation, type Diagnostic, didYouMean, formatField, type PathSegment } from './diagnostics.js';
import { displayPath, expandPaths, locate, readDocuments, type SourceDocument } from './documents.js';
import { checkSchema } from './schema-check.js';
import { type CheckedResource, checkSemantics } from './semantic-check.js';
import type { TypeRules } from './type-rules.js';

export interface LoadedResource extends CheckedResource {
  /** Where it came from, for locating fields. */
  source: SourceDocument;
  /** Its own errors (empty when it may be applied). */
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export interface ValidationResult {
  resources: LoadedResource[];
  /** Every finding, sorted by file and line. */
  diagnostics: Diagnostic[];
  files: number;
}

export interface ValidateOptions {
  /** The connector types' rules (connectors/registry.ts `typeRules`; validation cannot import connectors/). */
  types: TypeRules;
  secrets?: SecretResolver;
  /** file:line of files that did not parse, to explain references that point into them. */
  unparsed?: readonly string[];
  /** How files are named in findings; defaults to paths relative to the working directory. */
  display?: (file: string) => string;
}

const isMapValue = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function diag(
  sd: SourceDocument,
  path: PathSegment[],
  message: string,
  at: 'value' | 'key' = 'value',
  severity: 'error' | 'warning' = 'error',
  resource?: string,
): Diagnostic {
  const pos = locate(sd, path, at);
  return { severity, file: sd.file, line: pos.line, col: pos.col, field: formatField(path), message, resource };
}

/** Checks one parsed document; returns the resource it declares, if it declares one. */
export function checkDocument(
  sd: SourceDocument,
  diskFile: string,
): { resource?: LoadedResource; diagnostics: Diagnostic[] } {
  const v = sd.value;
  if (!isMapValue(v)) {
    return { diagnostics: [diag(sd, [], 'a resource must be a map with apiVersion, kind, metadata and spec')] };
  }
  // kustomize and Flux keep their own files beside resources; they are not ours to judge.
  if (v.kind === 'Kustomization' || String(v.apiVersion ?? '').startsWith('kustomize.config.k8s.io')) {
    return { diagnostics: [] };
  }
  const out: Diagnostic[] = [];
  if (v.apiVersion === undefined) out.push(diag(sd, ['apiVersion'], `is required (${API_VERSION})`));
  else if (v.apiVersion !== API_VERSION) {
    out.push(
      diag(sd, ['apiVersion'], `unknown apiVersion "${String(v.apiVersion)}": Provisio resources use ${API_VERSION}`),
    );
  }
  if (v.kind === undefined) out.push(diag(sd, ['kind'], `is required (${KINDS.join(' or ')})`));
  else if (!KINDS.includes(v.kind as Kind)) {
    out.push(
      diag(
        sd,
        ['kind'],
        `unknown kind "${String(v.kind)}": expected ${KINDS.join(' or ')}${didYouMean(String(v.kind), KINDS)}`,
      ),
    );
  }
  if (out.length > 0) return { diagnostics: out };

  const kind = v.kind as Kind;
  const findings = checkSchema(kind, v);
  const named = isMapValue(v.metadata) && typeof v.metadata.name === 'string';
  const label = named ? `${kind} ${keyOf(v as unknown as Connector)}` : undefined;
  for (const f of findings) out.push(diag(sd, f.path, f.message, f.at, 'error', label));
  if (!named) return { diagnostics: out };
  return {
    resource: {
      kind,
      resource: v as unknown as Connector | Task,
      file: diskFile,
      where: `${sd.file}:${locate(sd, []).line}`,
      schemaValid: out.length === 0,
      source: sd,
      errors: out,
      warnings: [],
    },
    diagnostics: out,
  };
}

/** Validates already-read documents (the git source feeds this as files change). */
export async function validateDocuments(
  documents: ReadonlyArray<{ sd: SourceDocument; diskFile: string }>,
  options: ValidateOptions,
): Promise<{ resources: LoadedResource[]; diagnostics: Diagnostic[] }> {
  const resources: LoadedResource[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const { sd, diskFile } of documents) {
    const r = checkDocument(sd, diskFile);
    diagnostics.push(...r.diagnostics);
    if (r.resource) resources.push(r.resource);
  }
  for (const f of await checkSemantics(resources, options.types, options.secrets, options.unparsed)) {
    const lr = f.resource as LoadedResource;
    const d = diag(lr.source, f.path, f.message, f.at, f.severity, `${lr.kind} ${keyOf(lr.resource)}`);
    (f.severity === 'error' ? lr.errors : lr.warnings).push(d);
    diagnostics.push(d);
  }
  return { resources, diagnostics: diagnostics.sort(byLocation) };
}

/** Validates files and directories (recursively), as `provisio validate` does. */
export async function validatePaths(paths: readonly string[], options: ValidateOptions): Promise<ValidationResult> {
  const display = options.display ?? ((f: string) => displayPath(f));
  const files = expandPaths(paths);
  const documents: Array<{ sd: SourceDocument; diskFile: string }> = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const parsed = readDocuments(file, display(file));
    diagnostics.push(...parsed.diagnostics);
    for (const sd of parsed.documents) documents.push({ sd, diskFile: file });
  }
  const unparsed = diagnostics.map((d) => `${d.file}:${d.line}`);
  const result = await validateDocuments(documents, { ...options, unparsed });
  return {
    resources: result.resources,
    diagnostics: [...diagnostics, ...result.diagnostics].sort(byLocation),
    files: files.length,
  };
}
