/**
 * Reads resource files: multi-document YAML (JSON is YAML too) with source positions, so that
 * every finding can point at the node it is about.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  type Alias,
  Composer,
  type Document,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  visit,
} from 'yaml';
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

/** What reading a file yields, document by document: a parsed document or the finding of one that did not parse. */
export type ReadItem = { document: SourceDocument } | { diagnostic: Diagnostic };

/**
 * Bound on alias expansion while converting a document (yaml's maxAliasCount): a "billion laughs" document
 * becomes one finding instead of exhausting memory.
 */
const MAX_ALIAS_COUNT = 100;

/**
 * Reads one file's text document by document (yaml's Parser and Composer), so that only the AST of the
 * document at hand is held: a 20 MB file of many documents is read in bounded memory. YAML syntax errors,
 * and documents whose aliases expand too far, become diagnostics; empty documents yield nothing.
 */
export function* streamDocuments(file: string, text: string): Generator<ReadItem> {
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ uniqueKeys: true });
  let index = 0;
  for (const doc of composer.compose(parser.parse(text))) {
    const item = readItem(file, text, lines, doc, index++);
    if (item) yield item;
  }
}

function readItem(
  file: string,
  text: string,
  lines: LineCounter,
  doc: Document.Parsed,
  index: number,
): ReadItem | undefined {
  if (doc.errors.length > 0) {
    // Later errors of a document are usually echoes of the first; one precise finding helps more.
    const err = doc.errors[0];
    const pos = lines.linePos(err.pos[0]);
    const source = lineText(text, lines, pos.line);
    return {
      diagnostic: {
        severity: 'error',
        file,
        line: pos.line,
        col: pos.col,
        field: '(yaml)',
        message: `invalid YAML: ${yamlMessage(err.message)}${duplicateKeyHint(err.code, source, pos)}${flowHint(err.message, source)}`,
      },
    };
  }
  if (doc.contents === null) return undefined; // an empty document between --- separators
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const { at, message } = conversionProblem(doc, e as Error);
    const pos = lines.linePos(at);
    return { diagnostic: { severity: 'error', file, line: pos.line, col: pos.col, field: '(yaml)', message } };
  }
  return { document: { file, index, doc, lines, value } };
}

/** Where and why a document that parsed could not be turned into a value (in practice: an alias bomb). */
function conversionProblem(doc: Document.Parsed, e: Error): { at: number; message: string } {
  const start = (doc.contents as Node | null)?.range?.[0] ?? 0;
  if (!/alias/i.test(e.message)) return { at: start, message: `invalid YAML: ${yamlMessage(e.message)}` };
  // The amplification starts at an alias of a collection that itself holds aliases (&b [*a, *a, ...]).
  let first: Alias | undefined;
  let nested: Alias | undefined;
  visit(doc, {
    Alias(_key, node) {
      first ??= node;
      const target = node.resolve(doc);
      if (target && isCollection(target) && holdsAlias(target)) {
        nested = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const alias = nested ?? first;
  const which = alias
    ? ` (*${alias.source} repeats &${alias.source}${nested ? ', which holds further aliases' : ''})`
    : '';
  return {
    at: alias?.range?.[0] ?? start,
    message: `invalid YAML: aliases expand to more than ${MAX_ALIAS_COUNT} nodes${which}, as a "billion laughs" alias bomb does; the document is not read: write the values out instead of nesting aliases`,
  };
}

function holdsAlias(node: Node): boolean {
  let found = false;
  visit(node, {
    Alias() {
      found = true;
      return visit.BREAK;
    },
  });
  return found;
}

/** The text of one line (1-based), without reading the whole file into lines. */
function lineText(text: string, lines: LineCounter, line: number): string {
  const start = lines.lineStarts[line - 1] ?? 0;
  const end = lines.lineStarts[line] ?? text.length;
  return text.slice(start, end).replace(/\r?\n$/, '');
}

/** Parses one file's text into documents, all held at once (the sources keep them to revalidate). */
export function parseDocuments(file: string, text: string): { documents: SourceDocument[]; diagnostics: Diagnostic[] } {
  const documents: SourceDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const item of streamDocuments(file, text)) {
    if ('document' in item) documents.push(item.document);
    else diagnostics.push(item.diagnostic);
  }
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
function duplicateKeyHint(code: string, source: string, pos: { line: number; col: number }): string {
  if (code !== 'DUPLICATE_KEY') return '';
  const rest = source.slice(pos.col - 1);
  const key = /^\s*["']?([^:"',{}[\]]+?)["']?\s*:/.exec(rest)?.[1];
  return key ? ` ("${key}" is set twice in the same map)` : '';
}

/** `[/users/{id}/groups]` is a flow list holding a flow map to YAML: say how to write it. */
function flowHint(message: string, source: string): string {
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
