/**
 * What the validator and the script locator say about script connectors: inline secrets in parameters,
 * paths that leave the connector's folder (by `..` or by a symbolic link), uniqueAttribute against the
 * unique mapping, and ConfigMap scripts found where the chart mounts them.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typeRules } from '../../../src/connectors/registry.js';
import { locateScript } from '../../../src/connectors/script/locate.js';
import { validatePaths } from '../../../src/validation/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'provisio-script-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'scripts'));
writeFileSync(join(dir, 'scripts', 'hr.py'), 'print(1)\n');

const yaml = (script: string, source = '{uniqueAttribute: objectGUID}') => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr, namespace: iga}
spec:
  type: script
  script:
${script}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: employees, namespace: iga}
spec:
  connectorRef: {name: hr}
  usage: scheduled
  schedule: {interval: 1h}
  source:
    script: ${source}
  mappings:
    generic:
      template: person
      attributes:
        - {external: objectGUID, local: hr_guid, unique: true}
        - {external: costCenters, local: cost_centers}
`;

async function findings(text: string): Promise<string[]> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  const result = await validatePaths([file], { types: typeRules, display: () => 'hr.yaml' });
  return result.diagnostics.map((d) => `${d.severity} ${d.line}:${d.col} ${d.field}  ${d.message}`);
}

describe('provisio validate on script connectors', () => {
  it('accepts the example shape', async () => {
    expect(await findings(yaml('    source: {path: scripts/hr.py}\n    parameters: {host: h}'))).toEqual([]);
  });

  it('refuses a secret written into parameters, without repeating it', async () => {
    const out = await findings(
      yaml('    source: {path: scripts/hr.py}\n    parameters: {host: h, password: hunter22}'),
    );
    expect(out).toEqual([
      'error 8:27 spec.script.parameters.password  parameter "password" holds a secret written inline; secrets are never written in resources: remove it, put key password in the Secret that spec.script.parametersSecretRef names (its keys are added to the parameters)',
    ]);
    expect(out.join()).not.toContain('hunter22');
  });

  it('refuses paths that leave the folder of the file', async () => {
    const out = await findings(yaml('    source: {path: ../elsewhere/x.py}'));
    expect(out[0]).toMatch(
      /^error 7:\d+ spec\.script\.source\.path {2}script path "\.\.\/elsewhere\/x\.py" leaves the folder of this file/,
    );
  });

  it('uniqueAttribute must be the unique mapping; multivalue names mapped attributes', async () => {
    const out = await findings(
      yaml('    source: {path: scripts/hr.py}', '{uniqueAttribute: id, multivalue: [costCenters, groups]}'),
    );
    expect(out).toEqual([
      'error 17:31 spec.source.script.uniqueAttribute  uniqueAttribute "id" is not the external attribute of the mapping marked unique ("objectGUID"); rows are identified by that one: make them the same',
      'error 17:31 spec.source.script.uniqueAttribute  uniqueAttribute "id" is not mapped: add an attribute mapping with external: id (usually the one marked unique: true)',
      'warning 17:61 spec.source.script.multivalue[1]  "groups" is not an external attribute of the mappings; the script is told only about mapped attributes',
    ]);
  });
});

describe('where the script is', () => {
  const connectorFile = join(dir, 'hr.yaml');

  it("git mode: relative to the connector's file, symbolic links that leave its folder refused", () => {
    expect(locateScript({ source: { path: 'scripts/hr.py' } }, connectorFile)).toBe(join(dir, 'scripts', 'hr.py'));
    const outside = mkdtempSync(join(tmpdir(), 'provisio-outside-'));
    writeFileSync(join(outside, 'evil.py'), 'print(1)\n');
    symlinkSync(join(outside, 'evil.py'), join(dir, 'scripts', 'link.py'));
    expect(() => locateScript({ source: { path: 'scripts/link.py' } }, connectorFile)).toThrow(
      /is outside the folder of the connector's file/,
    );
    rmSync(outside, { recursive: true, force: true });
    expect(() => locateScript({ source: { path: 'scripts/hr.py' } }, undefined)).toThrow(
      /needs git-directory mode .*; in Kubernetes mode use source.configMapRef/,
    );
  });

  it('Kubernetes mode: <PROVISIO_SCRIPTS_DIR>/<ConfigMap>/<key>, as the chart mounts it', () => {
    const root = join(dir, 'mounted');
    mkdirSync(join(root, 'hr-scripts'), { recursive: true });
    writeFileSync(join(root, 'hr-scripts', 'hr.py'), 'print(1)\n');
    const env = { PROVISIO_SCRIPTS_DIR: root };
    const block = { source: { configMapRef: { name: 'hr-scripts', key: 'hr.py' } } };
    expect(locateScript(block, undefined, env)).toBe(join(root, 'hr-scripts', 'hr.py'));
    expect(() =>
      locateScript({ source: { configMapRef: { name: 'hr-scripts', key: 'other.py' } } }, undefined, env),
    ).toThrow(
      `script of ConfigMap hr-scripts key other.py (expected at ${join(root, 'hr-scripts', 'other.py')}: mount the ConfigMap there, chart value scripts.configMaps) not found`,
    );
    expect(() =>
      locateScript({ source: { configMapRef: { name: 'hr-scripts', key: '../x' } } }, undefined, env),
    ).toThrow('is not a ConfigMap key');
  });
});
