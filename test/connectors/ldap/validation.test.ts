/**
 * What `provisio validate` says about LDAP tasks: a filter that is not RFC 4515 is an error naming the field and
 * line; an incremental task that imports memberships gets the seeds' warning; the examples validate clean.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeDnValue, escapeFilterValue } from '../../../src/connectors/ldap/index.js';
import { wanted } from '../../../src/connectors/ldap/records.js';
import { typeRules } from '../../../src/connectors/registry.js';
import { validatePaths } from '../../../src/validation/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'provisio-ldap-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yaml = (spec: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: dir, namespace: iga}
spec:
  type: ldap
  ldap: {url: ldaps://ldap.example.org, bindDn: "cn=svc,dc=example,dc=org", secretRef: {name: bind}, baseDn: "dc=example,dc=org"}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: accounts, namespace: iga}
spec:
  connectorRef: {name: dir}
  usage: scheduled
  mappingsType: identity
  schedule: {interval: 1h}
${spec}
  mappings:
    identity:
      template: account
      attributes:
        - {external: entryUUID, local: uuid, unique: true}
        - {external: memberOf, local: groups}
`;

async function findings(spec: string): Promise<string[]> {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml(spec));
  const result = await validatePaths([file], { types: typeRules, display: () => 'task.yaml' });
  return result.diagnostics.map((d) => `${d.severity} ${d.line}:${d.field} ${d.message}`);
}

describe('LDAP task validation', () => {
  it('accepts a valid filter', async () => {
    expect(await findings('  source:\n    ldap: {usersFilter: "(&(objectClass=person)(cn=a\\\\2a*))"}')).toEqual([]);
  });

  it.each([
    ['(&(objectClass=person)(uid=x)', 'unbalanced parentheses'],
    ['(uid=a\\\\zz)', 'a backslash must start a two-digit hex escape such as \\2a (RFC 4515)'],
  ])('refuses %s naming the field', async (filter, why) => {
    const out = await findings(`  source:\n    ldap:\n      usersFilter: "${filter}"`);
    expect(out).toEqual([`error 18:spec.source.ldap.usersFilter ${why}: ${filter.replace(/\\\\/g, '\\')}`]);
  });

  it('warns when an incremental task imports memberships', async () => {
    expect(await findings('  fetch: incremental\n  source:\n    ldap: {}')).toEqual([
      'warning 24:spec.mappings.identity.attributes[1].external an incremental task imports memberships (memberOf): a membership change does not always change the entry read, so memberships drift; import them with a full task',
    ]);
  });

  it('validates the examples without errors', async () => {
    const result = await validatePaths([join(import.meta.dirname, '../../../examples/ldap')], { types: typeRules });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('escaping values for filters and DNs', () => {
  it('escapes RFC 4515 specials and binary values in filters', () => {
    expect(escapeFilterValue('a*(b)\\c\0')).toBe('a\\2a\\28b\\29\\5cc\\00');
    expect(escapeFilterValue(Buffer.from([0xde, 0xad, 0x01]))).toBe('\\de\\ad\\01');
  });
  it('escapes RFC 4514 specials in DN values', () => {
    expect(escapeDnValue('Doe, John+x=<y>;"z"\\')).toBe('Doe\\, John\\+x\\=\\<y\\>\\;\\"z\\"\\\\');
    expect(escapeDnValue('#lead ')).toBe('\\#lead\\ ');
    expect(escapeDnValue(' x')).toBe('\\ x');
  });
});

describe('what a read asks the server for', () => {
  it('requests exactly the mapped attributes (dn from the entry, accountDisabled through userAccountControl)', () => {
    const w = wanted(
      {
        template: 'account',
        attributes: [
          { external: 'objectGUID', local: 'guid', unique: true },
          { external: 'dn', local: 'dn' },
          { external: 'accountDisabled', local: 'disabled' },
          { external: 'memberOf.0', local: 'first_group' },
        ],
      },
      ['objectGUID'],
    );
    expect(w).toEqual({
      names: ['objectGUID', 'dn', 'accountDisabled', 'memberOf'],
      request: ['objectGUID', 'userAccountControl', 'memberOf'],
    });
  });
});
