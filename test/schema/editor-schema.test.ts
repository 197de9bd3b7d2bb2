/**
 * `provisio schema` (a child process) as editors use it: every document of every file in examples/ validates
 * against the printed schema with a standard validator (a fresh Ajv, strict, with ajv-formats; not the project's
 * validator), `kind` picks the kind's schema, and no $id promises a URL.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cli, repoRoot } from '../server/child.js';

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}
const examples = yamlFiles(join(repoRoot, 'examples'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8')).map((d, i) => ({
      where: `${relative(repoRoot, file)}#${i}`,
      doc: d.toJS() as { kind?: string } | null,
    })),
  )
  .filter((e) => e.doc !== null);

async function printed(...args: string[]): Promise<Record<string, unknown>> {
  const r = await cli(['schema', ...args]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as Record<string, unknown>;
}
function validator(schema: Record<string, unknown>) {
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}
const brief = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

let all: Record<string, unknown>;
beforeAll(async () => {
  all = await printed();
});

describe('provisio schema', () => {
  it('accepts every document of examples/ (Connectors and Tasks together)', () => {
    expect(examples.length).toBeGreaterThan(30);
    const validate = validator(all);
    const refused = examples.filter((e) => !validate(e.doc)).map((e) => [e.where, brief(validate.errors)]);
    expect(refused).toEqual([]);
    expect(new Set(examples.map((e) => e.doc?.kind))).toEqual(new Set(['Connector', 'Task']));
  });

  it('picks the schema by kind, so a mistake is reported against the right kind', () => {
    const validate = validator(all);
    const connector = examples.find((e) => e.doc?.kind === 'Connector')?.doc as { spec: Record<string, unknown> };
    expect(validate({ ...connector, spec: { ...connector.spec, type: 'rset' } })).toBe(false);
    expect(validate.errors?.some((e: ErrorObject) => e.instancePath === '/spec/type' && e.keyword === 'enum')).toBe(
      true,
    );
    expect(validate({ apiVersion: 'provisio.dev/v1alpha1', kind: 'Secret', metadata: { name: 'x' } })).toBe(false);
    expect(brief(validate.errors)).toContain('/kind must be equal to one of the allowed values');
  });

  it('prints each kind alone: connector refuses a Task, task refuses a Connector', async () => {
    const connectors = validator(await printed('connector'));
    const tasks = validator(await printed('task'));
    for (const e of examples) {
      expect(connectors(e.doc), e.where).toBe(e.doc?.kind === 'Connector');
      expect(tasks(e.doc), e.where).toBe(e.doc?.kind === 'Task');
    }
  });

  it("keeps only standard keywords, and no $id promises a URL (the sources' are their paths in schemas/)", () => {
    const text = JSON.stringify(all);
    expect(text).not.toMatch(/"\$id"/);
    expect(text).not.toMatch(/"x-[a-z-]+":/);
    const sources = readdirSync(join(repoRoot, 'schemas'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.json'),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const f of sources) {
      const id = (JSON.parse(readFileSync(join(repoRoot, 'schemas', f), 'utf8')) as { $id: string }).$id;
      expect(id).toBe(f.replace(/\\/g, '/'));
    }
  });

  it('refuses an unknown kind as a usage error (exit 2)', async () => {
    const r = await cli(['schema', 'secret']);
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'error: unknown schema "secret": use connector, task or all (the default)\n',
    });
  });
});
