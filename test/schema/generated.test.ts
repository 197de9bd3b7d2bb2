import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse as parseCel } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type Schema = Record<string, unknown>;
const crd = (plural: string) => parse(readFileSync(`crds/${plural}.provisio.dev.yaml`, 'utf8')) as Schema;
const openApi = (c: Schema): Schema => {
  const version = ((c.spec as Schema).versions as Schema[])[0];
  return (version.schema as Schema).openAPIV3Schema as Schema;
};

/** Every schema node with its path, depth first. */
function* nodes(s: Schema, path = '$'): Generator<[string, Schema]> {
  yield [path, s];
  for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) yield* nodes(v, `${path}.${k}`);
  if (s.items) yield* nodes(s.items as Schema, `${path}[]`);
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    yield* nodes(s.additionalProperties as Schema, `${path}{}`);
}

describe('generated artefacts', () => {
  it('are up to date with schemas/ (drift fails)', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/generate.ts', '--check'], {
      encoding: 'utf8',
    });
    expect(out).toContain('generated files are up to date');
  });

  it('provisio crds prints exactly the committed CRDs', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'crds'], { encoding: 'utf8' });
    const strip = (t: string) => t.replace(/^#.*\n/gm, '').trim();
    const committed = ['connectors', 'tasks'].map((p) => strip(readFileSync(`crds/${p}.provisio.dev.yaml`, 'utf8')));
    expect(
      out
        .split(/^---\n/m)
        .filter(Boolean)
        .map(strip),
    ).toEqual(committed);
  });
});

describe.each(['connectors', 'tasks'])('CRD %s', (plural) => {
  const c = crd(plural);
  const schema = openApi(c);

  it('is an apiextensions.k8s.io/v1 CRD with status subresource, category and short name', () => {
    expect(c.apiVersion).toBe('apiextensions.k8s.io/v1');
    const spec = c.spec as Schema;
    expect(spec.group).toBe('provisio.dev');
    expect((spec.names as Schema).categories).toEqual(['provisio']);
    expect(((spec.names as Schema).shortNames as string[]).length).toBe(1);
    const version = (spec.versions as Schema[])[0];
    expect(version.subresources).toEqual({ status: {} });
  });

  it('has printer columns like the seeds overview', () => {
    const version = ((c.spec as Schema).versions as Schema[])[0];
    const names = (version.additionalPrinterColumns as Schema[]).map((col) => col.name);
    expect(names).toEqual(
      plural === 'connectors'
        ? ['Type', 'Health', 'Scheduled', 'Event', 'Ready', 'Age']
        : ['Connector', 'Usage', 'Phase', 'Last run', 'Next run', 'Ready', 'Age'],
    );
  });

  it('is structural: every node typed (or preserving unknown fields), no $ref or JSON-Schema-only keywords', () => {
    const forbidden = [
      '$ref',
      'definitions',
      'const',
      'if',
      'then',
      'else',
      'oneOf',
      'anyOf',
      'allOf',
      'not',
      'propertyNames',
      'x-message',
      'title',
    ];
    for (const [path, n] of nodes(schema)) {
      expect(n.type !== undefined || n['x-kubernetes-preserve-unknown-fields'] === true, `${path} has no type`).toBe(
        true,
      );
      for (const k of forbidden) expect(k in n, `${path} has ${k}`).toBe(false);
      expect(
        n.properties !== undefined && n.additionalProperties !== undefined,
        `${path} has properties and additionalProperties`,
      ).toBe(false);
    }
  });

  it('describes every field (kubectl explain)', () => {
    for (const [path, n] of nodes((schema.properties as Record<string, Schema>).spec, '$.spec')) {
      if (/(\[\]|\{\})$/.test(path)) continue; // list items and map values are documented by their field
      expect(
        typeof n.description === 'string' && (n.description as string).length > 0,
        `${path} has no description`,
      ).toBe(true);
    }
  });

  it('carries CEL rules that compile and only read declared fields', () => {
    let rules = 0;
    for (const [path, n] of nodes(schema)) {
      for (const v of (n['x-kubernetes-validations'] ?? []) as Array<{
        rule: string;
        message: string;
        fieldPath?: string;
      }>) {
        rules++;
        expect(() => parseCel(v.rule), `${path}: ${v.rule}`).not.toThrow();
        expect(v.message.length).toBeGreaterThan(10);
        for (const m of v.rule.matchAll(/self\.([A-Za-z0-9]+)/g)) {
          expect(Object.keys((n.properties ?? {}) as Schema), `${path}: ${v.rule} reads ${m[1]}`).toContain(m[1]);
        }
        if (v.fieldPath) {
          let cur: Schema | undefined = n;
          for (const seg of v.fieldPath.replace(/^\./, '').split('.'))
            cur = (cur?.properties as Record<string, Schema>)?.[seg];
          expect(cur, `${path}: fieldPath ${v.fieldPath} does not exist`).toBeDefined();
        }
      }
    }
    expect(rules).toBeGreaterThan(plural === 'connectors' ? 10 : 15);
  });
});
