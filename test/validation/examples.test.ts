/**
 * examples/ is documentation users copy from: it must validate, and together the folders must show every
 * connector type, every REST pagination and auth type, and every kind of task.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectorTypes, typeRules } from '../../src/connectors/registry.js';
import type { Connector, Task } from '../../src/model/resources.js';
import { type ValidationResult, validatePaths } from '../../src/validation/validate.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const examplesDir = relative(process.cwd(), join(repoRoot, 'examples')) || '.';

interface RestSchema {
  definitions: {
    auth: { properties: { type: { enum: string[] } } };
    pagination: { properties: { type: { enum: string[] } } };
  };
}
const restSchema = JSON.parse(readFileSync(join(repoRoot, 'schemas', 'connectors', 'rest.json'), 'utf8')) as RestSchema;

/** The folders this suite documents (examples/quickstart has its own owner and README). */
const FOLDERS = ['rest-pagination', 'm42', 'msgraph', 'scim', 'ldap', 'script'];

describe('examples/', () => {
  let result: ValidationResult;
  let connectors: Connector[];
  let tasks: Task[];
  const typeOf = (t: Task): string | undefined =>
    connectors.find(
      (c) => c.metadata.name === t.spec.connectorRef.name && c.metadata.namespace === t.metadata.namespace,
    )?.spec.type;

  beforeAll(async () => {
    result = await validatePaths([examplesDir], { types: typeRules });
    connectors = result.resources.filter((r) => r.kind === 'Connector').map((r) => r.resource as Connector);
    tasks = result.resources.filter((r) => r.kind === 'Task').map((r) => r.resource as Task);
  });

  it('validates without errors', () => {
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.resources.every((r) => r.errors.length === 0)).toBe(true);
  });

  it('every example folder has a README and resources', () => {
    for (const folder of FOLDERS) {
      expect(existsSync(join(repoRoot, 'examples', folder, 'README.md')), folder).toBe(true);
      expect(
        result.resources.some((r) => r.file.split(/[\\/]/).includes(folder)),
        folder,
      ).toBe(true);
    }
    expect(existsSync(join(repoRoot, 'examples', 'README.md'))).toBe(true);
  });

  it('covers every connector type', () => {
    const types = new Set(connectors.map((c) => c.spec.type));
    for (const t of connectorTypes()) expect(types, t.type).toContain(t.type);
  });

  it('covers every REST pagination type, linkToken both ways and the google variant', () => {
    const rest = connectors.flatMap((c) => (c.spec.rest ? [c.spec.rest] : []));
    const paginations = new Set(rest.map((r) => r.pagination?.type));
    for (const p of restSchema.definitions.pagination.properties.type.enum) expect(paginations, p).toContain(p);
    const linkToken = rest.filter((r) => r.pagination?.type === 'linkToken');
    expect(linkToken.some((r) => typeof r.pagination?.nextLinkPath === 'string')).toBe(true);
    expect(linkToken.some((r) => r.pagination?.linkHeader === true)).toBe(true);
    expect(rest.some((r) => r.variant === 'google' && r.pagination?.type === 'linkAttributeToken')).toBe(true);
  });

  it('covers every REST auth type', () => {
    const auths = new Set(connectors.map((c) => c.spec.rest?.auth?.type).filter((t) => t !== undefined));
    for (const a of restSchema.definitions.auth.properties.type.enum) expect(auths, a).toContain(a);
  });

  it('has a scheduled task for every connector type', () => {
    const scheduled = new Set(tasks.filter((t) => t.spec.usage === 'scheduled').map(typeOf));
    for (const t of connectorTypes()) expect(scheduled, t.type).toContain(t.type);
    for (const t of tasks.filter((t) => t.spec.usage === 'scheduled')) {
      expect(t.spec.schedule?.cron ?? t.spec.schedule?.interval, t.metadata.name).toBeTruthy();
    }
  });

  it('shows event, authentication and incremental tasks where the seeds offer them', () => {
    const kinds = new Set(tasks.map((t) => `${typeOf(t)}/${t.spec.usage}`));
    for (const k of ['rest/event', 'm42/event', 'msgraph/event', 'script/event', 'msgraph/authentication']) {
      expect(kinds, k).toContain(k);
    }
    const incremental = new Set(tasks.filter((t) => t.spec.fetch === 'incremental').map(typeOf));
    expect(incremental).toEqual(new Set(['msgraph', 'ldap']));
  });

  it('shows the REST task features: subqueries, markers, threshold, paths and deletion marking', () => {
    const rest = tasks.filter((t) => t.spec.source?.rest);
    const sources = rest.map((t) => t.spec.source?.rest);
    expect(sources.some((s) => (s?.subqueries ?? []).some((q) => q.includes('{id}')))).toBe(true);
    expect(sources.some((s) => s?.valueMarker && s.errorMarker && s.safetyThreshold && s.headers)).toBe(true);
    const generic = rest.flatMap((t) => (t.spec.mappings?.generic ? [t.spec.mappings.generic] : []));
    expect(generic.some((g) => g.taskIdAttribute && g.dataSourceTypeAttribute && g.onDeleted)).toBe(true);
    const externals = generic.flatMap((g) => g.attributes.map((a) => a.external));
    expect(externals).toContain("name['first-name']");
    expect(externals.some((e) => /\.0\./.test(e))).toBe(true);
    expect(externals).toContain('/employees/{id}/groups.0.name');
    for (const t of rest.filter((t) => t.spec.usage === 'scheduled')) {
      const unique = t.spec.mappings?.generic?.attributes.find((a) => a.unique);
      expect(unique?.external, t.metadata.name).toBe(t.spec.source?.rest?.uniqueAttribute);
    }
  });

  it('references secrets only (no inline credentials)', () => {
    // A credential-like key with a string value (event.password is a settings block, not a secret).
    const secretKeys = /"(password|token|clientSecret|client_secret|apiKey)"\s*:\s*"/i;
    for (const r of result.resources)
      expect(JSON.stringify(r.resource.spec), r.resource.metadata.name).not.toMatch(secretKeys);
  });

  it('the CLI exits 0 on validate examples', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVISIO_SECRET')));
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'validate', 'examples'],
        { cwd: repoRoot, env },
        (error, out) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/ resources in \d+ files: 0 errors, \d+ warnings \(\d+ ms\)\n$/);
    // Without secrets every finding is a warning about an unresolvable secret.
    for (const line of stdout.trimEnd().split('\n').slice(0, -1)) expect(line).toMatch(/ {2}warning: secret "/);
  });
});
