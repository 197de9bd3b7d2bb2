/**
 * Validation of resource files: YAML, apiVersion/kind, schema and CEL rules per document, then the
 * checks across resources. One bad document never hides the findings of the others.
 */

import { readFileSync } from 'node:fs';
import type { Connector, Kind, Task } from '../model/resources.js';
import { API_VERSION, KINDS, keyOf } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';
import { byLocation, type Diagnostic, didYouMean, formatField, type PathSegment } from './diagnostics.js';
import { displayPath, expandPaths, locate, type SourceDocument, streamDocuments } from './documents.js';
import { checkSchema } from './schema-check.js';
import { type CheckedResource, checkSemantics, type SemanticFinding } from './semantic-check.js';
import type { TypeRules } from './type-rules.js';

export interface LoadedResource extends CheckedResource {
  /** Where it is declared: the file as findings name it, and the line the document's content starts on. */
  origin: { file: string; line: number };
  /**
   * The parsed document, for locating fields: kept by validateDocuments (whose callers hold the documents
   * anyway); validatePaths streams each file and keeps no AST.
   */
  source?: SourceDocument;
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
  /** The files may be a part of a configuration: a Task's connector absent from files without any is a warning. */
  partial?: boolean;
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
  const line = locate(sd, []).line;
  return {
    resource: {
      kind,
      resource: v as unknown as Connector | Task,
      file: diskFile,
      where: `${sd.file}:${line}`,
      origin: { file: sd.file, line },
      schemaValid: out.length === 0,
      source: sd,
      errors: out,
      warnings: [],
    },
    diagnostics: out,
  };
}

/** Records a semantic finding, located in the document `sd`, on its resource and in `out`. */
function addFinding(sd: SourceDocument | undefined, f: SemanticFinding, out: Diagnostic[]): void {
  const lr = f.resource as LoadedResource;
  const resource = `${lr.kind} ${keyOf(lr.resource)}`;
  const d: Diagnostic = sd
    ? diag(sd, f.path, f.message, f.at, f.severity, resource)
    : // The document changed between the two reads: the resource's own line is the best we know.
      { ...lr.origin, col: 1, severity: f.severity, field: formatField(f.path), message: f.message, resource };
  (f.severity === 'error' ? lr.errors : lr.warnings).push(d);
  out.push(d);
}

/** Validates already-read documents (the git and Kubernetes sources feed this as resources change). */
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
    addFinding((f.resource as LoadedResource).source, f, diagnostics);
  }
  return { resources, diagnostics: diagnostics.sort(byLocation) };
}

/**
 * Validates files and directories (recursively), as `provisio validate` does. Each file is read document
 * by document and no AST outlives its document: schema findings are located as each document is checked,
 * and the few findings across resources (found once every file was read) are located by reading again
 * only the files they are in. Memory stays bounded by the resources' values, not their syntax trees.
 */
export async function validatePaths(paths: readonly string[], options: ValidateOptions): Promise<ValidationResult> {
  const display = options.display ?? ((f: string) => displayPath(f));
  const files = expandPaths(paths);
  const resources: LoadedResource[] = [];
  const diagnostics: Diagnostic[] = [];
  const unparsed: string[] = [];
  const documentOf = new Map<LoadedResource, number>();
  for (const file of files) {
    for (const item of streamDocuments(display(file), readFileSync(file, 'utf8'))) {
      if ('diagnostic' in item) {
        diagnostics.push(item.diagnostic);
        unparsed.push(`${item.diagnostic.file}:${item.diagnostic.line}`);
        continue;
      }
      const r = checkDocument(item.document, file);
      diagnostics.push(...r.diagnostics);
      if (!r.resource) continue;
      documentOf.set(r.resource, item.document.index);
      r.resource.source = undefined;
      resources.push(r.resource);
    }
  }
  const findings = await checkSemantics(resources, options.types, options.secrets, unparsed, options.partial);
  // file → document index → its findings
  const pending = new Map<string, Map<number, SemanticFinding[]>>();
  for (const f of findings) {
    const lr = f.resource as LoadedResource;
    const byDocument = pending.get(lr.file) ?? new Map<number, SemanticFinding[]>();
    pending.set(lr.file, byDocument);
    const index = documentOf.get(lr) ?? -1;
    byDocument.set(index, [...(byDocument.get(index) ?? []), f]);
  }
  for (const [file, byDocument] of pending) {
    for (const item of streamDocuments(display(file), readFileSync(file, 'utf8'))) {
      if (!('document' in item)) continue;
      for (const f of byDocument.get(item.document.index) ?? []) addFinding(item.document, f, diagnostics);
      byDocument.delete(item.document.index);
    }
    for (const rest of byDocument.values()) for (const f of rest) addFinding(undefined, f, diagnostics);
  }
  return { resources, diagnostics: diagnostics.sort(byLocation), files: files.length };
}
