/**
 * What the validator says about Microsoft Graph tasks: incremental tasks may mark deletions (delta reports
 * them), filters that delta results cannot be evaluated against are refused with the reason, and so are the
 * memberships and settings a delta round cannot keep up to date; the examples validate.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typeRules } from '../../../src/connectors/registry.js';
import { validatePaths } from '../../../src/validation/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'provisio-msgraph-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yaml = (spec: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: entra, namespace: iga}
spec:
  type: msgraph
  msgraph: {tenantId: t, clientId: c, auth: {type: secret, secretRef: {name: entra-app}}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: accounts, namespace: iga}
spec:
  connectorRef: {name: entra}
  usage: scheduled
  schedule: {interval: 15m}
${spec}`;

const identity = (extra = '') => `  mappings:
    identity:
      template: account
      taskIdAttribute: task_id
      onDeleted: {attribute: status, value: Deleted}
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: onPremisesExtensionAttributes.extensionAttribute1, local: ext1}
${extra}`;

async function errors(spec: string): Promise<string[]> {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml(spec));
  const result = await validatePaths([file], { types: typeRules, display: () => 'task.yaml' });
  return result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.field} ${d.message}`);
}

describe('Microsoft Graph task validation', () => {
  it('accepts an incremental task with onDeleted and a filter it can evaluate on delta results', async () => {
    const source = `  source:\n    msgraph: {usersFilter: "accountEnabled eq true and endsWith(mail,'@x.com')"}\n`;
    expect(await errors(`  mappingsType: identity\n  fetch: incremental\n${source}${identity()}`)).toEqual([]);
  });

  it('refuses what delta results cannot be filtered by, with the reason', async () => {
    const lambda = `  source:\n    msgraph: {usersFilter: "assignedLicenses/any(x:x/skuId eq 'abc')"}\n`;
    const [e] = await errors(`  mappingsType: identity\n  fetch: incremental\n${lambda}${identity()}`);
    expect(e).toContain('spec.source.msgraph.usersFilter');
    expect(e).toContain('cannot be evaluated on delta results (delta rounds cannot filter');
    const search = `  source:\n    msgraph: {usersFilter: '$search="displayName:sales"'}\n`;
    expect(await errors(`  mappingsType: identity\n  fetch: incremental\n${search}${identity()}`)).toEqual([
      'spec.source.msgraph.usersFilter usersFilter: $search cannot be evaluated on delta results; use $filter or fetch: full',
    ]);
  });

  it('refuses users’ memberOf and includeMembersOf on incremental tasks, saying why', async () => {
    const member = '        - {external: memberOf, local: member_of}\n';
    const source = '  source:\n    msgraph: {includeMembersOf: [g1]}\n';
    const found = await errors(`  mappingsType: identity\n  fetch: incremental\n${source}${identity(member)}`);
    expect(found).toContain(
      'spec.source.msgraph.includeMembersOf includeMembersOf cannot be applied incrementally: a user whose group membership changes does not appear in /users/delta; use fetch: full',
    );
    expect(found.some((f) => f.includes('memberOf of users cannot be kept up to date incrementally'))).toBe(true);
    // The same task, read in full, is fine.
    expect(await errors(`  mappingsType: identity\n${source}${identity(member)}`)).toEqual([]);
  });

  it('refuses query-string parameters the connector sets itself, and a generic task without a query', async () => {
    const top = `  source:\n    msgraph: {usersFilter: "$top=5&$filter=accountEnabled eq true"}\n`;
    expect((await errors(`  mappingsType: identity\n${top}${identity()}`))[0]).toContain(
      '$top is not allowed here (only $filter, $search, $orderby and $count; the connector sets $select and $top)',
    );
    const generic = `  mappingsType: generic
  source:
    msgraph: {subqueries: ["/users/{userId}"]}
  mappings:
    generic:
      template: device
      attributes:
        - {external: id, local: device_id, unique: true}
`;
    expect(await errors(generic)).toEqual([
      'spec.source.msgraph.query a generic Microsoft Graph task needs a query (a Graph path such as /deviceManagement/managedDevices)',
    ]);
  });

  it('warns about the activities an event task cannot serve, naming each and the missing mapping', async () => {
    const file = join(dir, 'event.yaml');
    const task = yaml('').replace('  usage: scheduled\n  schedule: {interval: 15m}\n', '');
    writeFileSync(
      file,
      `${task}  usage: event
  mappingsType: identityAndAccess
  event: {timeout: 10s}
  mappings:
    identity:
      template: account
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: displayName, local: display_name}
    access:
      template: entitlement
      attributes:
        - {external: displayName, local: name}
        - {external: mailNickname, local: nick}
        - {external: mailEnabled, local: mail_enabled}
        - {external: securityEnabled, local: security}
`,
    );
    const result = await validatePaths([file], { types: typeRules, display: () => 'event.yaml' });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // In file order: the event block comes before the mappings.
    expect(result.diagnostics.map((d) => `${d.field} ${d.message}`)).toEqual([
      'spec.event createUser and resetPassword cannot run on this task: it has no spec.event.password (mode default with a secretRef, or generated)',
      'spec.mappings.identity.attributes createUser cannot run on this task: spec.mappings.identity maps no mailNickname, userPrincipalName (Graph needs displayName, mailNickname, userPrincipalName to create a user)',
      'spec.mappings.access.attributes updateGroup, deleteGroup, verifyGroup cannot run on this task: spec.mappings.access has no unique attribute to name the group (usually id)',
    ]);
    expect(result.diagnostics.every((d) => d.severity === 'warning' && d.line !== undefined)).toBe(true);
  });

  it('validates the examples', async () => {
    const result = await validatePaths([join(process.cwd(), 'examples/msgraph')], { types: typeRules });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});
