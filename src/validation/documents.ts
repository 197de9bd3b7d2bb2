/**
 * Reads resource files: multi-document YAML (JSON is YAML too) with source positions, so that
 * every finding can point at the node it is about.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import type { Diagnostic, PathSegment } from './diagnostics.js';

export interface SourceDocument {
  /** Path as given or relative to the working directory, as printed in diagnostics. */
  file: string;
  /** Index of the document inside the file (0-based). */
  index: number;
  doc: Document.Parsed;
  lines: LineCounter;
  /** Plain value of the document; undefined when it did not parse. */
  value: unknown;
}

export interface Position {
  line: number;
  col: number;
}

const RESOURCE_FILE = /\.(ya?ml|json)$/i;
/** Files in resource folders that belong to kustomize/Flux, not to Provisio. */
const IGNORED_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

/** Expands paths: directories recursively (YAML files only), files as given. */
export function expandPaths(paths: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/i.test(entry.name) && !IGNORED_FILES.has(entry.name)) files.push(full);
    }
  };
  for (const p of paths) {
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
  return files;
}

export const isResourceFile = (file: string): boolean =>
  RESOURCE_FILE.test(file) && !IGNORED_FILES.has(file.split(/[\\/]/).pop() ?? '');

export const displayPath = (file: string, cwd = process.cwd()): string => {
  const rel = relative(cwd, file);
  return rel.startsWith('..') ? file : rel;
};

/** Parses one file's text into documents; YAML syntax errors become diagnostics. */
export function parseDocuments(file: string, text: string): { documents: SourceDocument[]; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  const documents: SourceDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      // Later errors of a document are usually echoes of the first; one precise finding helps more.
      const err = doc.errors[0];
      const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
      diagnostics.push({
        severity: 'error',
        file,
        line: pos.line,
        col: pos.col,
        field: '(yaml)',
        message: `invalid YAML: ${yamlMessage(err.message)}${duplicateKeyHint(err.code, text, pos)}${flowHint(err.message, text, pos.line)}`,
      });
      return;
    }
    if (doc.contents === null) return; // an empty document between --- separators
    documents.push({ file, index, doc, lines, value: doc.toJS({ maxAliasCount: 100 }) });
  });
  return { documents, diagnostics };
}

/** The yaml library appends a code frame and position to its messages; keep the sentence. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

export function readDocuments(file: string, shownAs = file) {
  return parseDocuments(shownAs, readFileSync(file, 'utf8'));
}

/** The yaml library says a key is duplicated but not which; the source line does. */
function duplicateKeyHint(code: string, text: string, pos: { line: number; col: number }): string {
  if (code !== 'DUPLICATE_KEY') return '';
  const rest = (text.split(/\r?\n/)[pos.line - 1] ?? '').slice(pos.col - 1);
  const key = /^\s*["']?([^:"',{}[\]]+?)["']?\s*:/.exec(rest)?.[1];
  return key ? ` ("${key}" is set twice in the same map)` : '';
}

/** `[/users/{id}/groups]` is a flow list holding a flow map to YAML: say how to write it. */
function flowHint(message: string, text: string, line: number): string {
  const source = text.split(/\r?\n/)[line - 1] ?? '';
  if (/flow|unexpected scalar|missing ,/i.test(message) && /[[{][^\]}]*[{}]/.test(source)) {
    return ' (inside [ ] or { }, quote values that contain { } [ ] , or :, such as "/users/{id}/groups")';
  }
  return '';
}

const keyOf = (node: unknown): unknown => (isScalar(node) ? node.value : node);

/**
 * Finds where a field path sits in a document. For a missing field it answers the deepest part of
 * the path that exists. Scalars point at the value; maps and lists at their key, where a user
 * looks for them; `at: 'key'` forces the key (unknown fields).
 */
export function locate(sd: SourceDocument, path: readonly PathSegment[], at: 'value' | 'key' = 'value'): Position {
  let node: Node | null | undefined = sd.doc.contents as Node | null;
  let keyNode: Node | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(keyOf(p.key)) === String(seg));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value as Node | null;
      if (node === null) {
        node = undefined;
        break;
      }
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      keyNode = undefined;
      node = node.items[seg] as Node;
    } else break;
  }
  let target: Node | undefined;
  // `schedule:` with nothing after it parses as an empty scalar just past the colon; the key is what a user looks at.
  const empty = isScalar(node) && node.value === null && node.range && node.range[0] === node.range[1];
  if ((at === 'key' || empty) && keyNode) target = keyNode;
  else if (node && isScalar(node)) target = node;
  else target = keyNode ?? (node as Node | undefined);
  const offset = target?.range?.[0] ?? (sd.doc.contents as Node | null)?.range?.[0] ?? 0;
  return sd.lines.linePos(offset);
}
