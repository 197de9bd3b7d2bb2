/**
 * validatePaths reads each file document by document and keeps no syntax tree past its document; findings
 * that need every file (references between resources) are located afterwards by reading their file again.
 * Real multi-document files on disk, exact file:line:col.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typeRules } from '../../src/connectors/registry.js';
import { formatDiagnostic } from '../../src/validation/diagnostics.js';
import { validatePaths } from '../../src/validation/validate.js';
import { connectorYaml, taskYaml } from '../controller/resources.js';

const dir = mkdtempSync(join(tmpdir(), 'provisio-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const display = (file: string) => file.slice(dir.length + 1);

/** Connector + Task pairs in one file: each pair is 12 + 24 lines and a --- line after each document. */
function manyPairs(count: number, broken: (i: number) => string | undefined = () => undefined): string {
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    docs.push(connectorYaml({ name: `api-${i}`, baseUrl: `https://hr${i}.example.com/api` }));
    docs.push(broken(i) ?? taskYaml({ name: `task-${i}`, connector: `api-${i}` }));
  }
  return docs.join('---\n');
}

describe('validatePaths streams documents', () => {
  it('keeps no AST, and locates findings across resources in later documents of a large file', async () => {
    const file = join(dir, 'many.yaml');
    writeFileSync(
      file,
      manyPairs(40, (i) =>
        i === 37
          ? taskYaml({ name: `task-${i}`, connector: 'apj-37' })
          : i === 39
            ? connectorYaml({ name: 'api-3', baseUrl: 'https://x.example.com' })
            : undefined,
      ),
    );
    const result = await validatePaths([file], { types: typeRules, display });
    expect(result.resources).toHaveLength(80);
    expect(result.resources.every((r) => r.source === undefined)).toBe(true);
    // Pair i starts on line 1 + 38 i; its second document on the line 13 after that.
    const second = (i: number) => 1 + 38 * i + 13;
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `many.yaml:${second(37) + 6}:24  spec.connectorRef.name  Connector "apj-37" not found in namespace "iga" (did you mean "api-37"?)`,
      `many.yaml:${second(39) + 3}:9  metadata.name  duplicate Connector "iga/api-3": already defined at many.yaml:${1 + 38 * 3}`,
    ]);
  });
});
