/** What the validator says about SCIM tasks: incremental is accepted (the type table says so), generic is not. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typeRules } from '../../../src/connectors/registry.js';
import { validatePaths } from '../../../src/validation/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'provisio-scim-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yaml = (spec: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: idp, namespace: iga}
spec:
  type: scim
  scim: {host: idp.example.com, auth: {type: bearer, secretRef: {name: idp-token}}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: accounts, namespace: iga}
spec:
  connectorRef: {name: idp}
  usage: scheduled
  schedule: {interval: 1h}
${spec}`;

const identity = `  mappings:
    identity:
      template: account
      attributes:
        - {external: id, local: scim_id, unique: true}
        - {external: "['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department", local: department}
`;

async function errors(spec: string): Promise<string[]> {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml(spec));
  const result = await validatePaths([file], { types: typeRules, display: () => 'task.yaml' });
  return result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.field} ${d.message}`);
}

describe('SCIM task validation', () => {
  it('accepts fetch: incremental and extension paths', async () => {
    expect(
      await errors(
        `  mappingsType: identity\n  fetch: incremental\n  source:\n    scim: {usersFilter: active eq true}\n${identity}`,
      ),
    ).toEqual([]);
  });

  it('refuses mappingsType generic', async () => {
    const generic = `  mappingsType: generic\n  source:\n    scim: {}\n  mappings:\n    generic:\n      template: x\n      attributes:\n        - {external: id, local: id, unique: true}\n`;
    expect(await errors(generic)).toEqual([
      'spec.mappingsType Connector "idp" of type scim loads identityAndAccess or identity or access mappings, not generic',
    ]);
  });
});
