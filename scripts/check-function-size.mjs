// Fails when a function in src/engine or src/controller spans more than MAX_LINES lines (issue: "no function over
// ~80 lines"): orchestration there stays readable as a list of steps, each step in a function of its own.
// Parses with @swc/core (the parser dependency-cruiser uses here); names the file, line and function.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSync } from '@swc/core';

const MAX_LINES = 80;
const ROOTS = ['src/engine', 'src/controller'];

const files = ROOTS.flatMap((root) =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name)),
);

const problems = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const ast = parseSync(text, { syntax: 'typescript', target: 'es2022' });
  // swc spans are byte offsets into a buffer shared by every parse: make them relative to this file.
  const base = ast.span.start;
  const lineStarts = [0];
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) lineStarts.push(i + 1);
  const lineOf = (offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const visit = (node, name) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n, name);
      return;
    }
    const isFn = [
      'FunctionDeclaration',
      'FunctionExpression',
      'ArrowFunctionExpression',
      'ClassMethod',
      'Constructor',
    ].includes(node.type);
    let fnName = name;
    if (node.type === 'FunctionDeclaration') fnName = node.identifier?.value;
    if (node.type === 'ClassMethod') fnName = node.key?.value;
    if (node.type === 'Constructor') fnName = 'constructor';
    if (node.type === 'VariableDeclarator') fnName = node.id?.value;
    if (isFn && node.span) {
      const first = lineOf(node.span.start - base);
      const last = lineOf(node.span.end - base - 1);
      if (last - first + 1 > MAX_LINES) {
        problems.push(
          `${file}:${first}  ${fnName ?? '(anonymous)'} is ${last - first + 1} lines (at most ${MAX_LINES})`,
        );
      }
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'span') visit(v, fnName);
  };
  visit(ast.body, undefined);
}
if (problems.length > 0) {
  console.error(`function-size: split these into steps of their own:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(
  `function-size: every function in ${ROOTS.join(' and ')} is at most ${MAX_LINES} lines (${files.length} files)`,
);
