/**
 * A Connector's Ready condition summarizes its tasks and findings (issue 16, part 3): a secret that cannot be
 * resolved, tasks this version cannot run, and a stop on request that is not a failure.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtInConnectorTypes, createRegistry } from '../../src/connectors/registry.js';
import type { Condition } from '../../src/model/resources.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { createSecretsDir, type SecretsDir } from '../peers/secrets.js';
import { type Harness, startController } from './harness.js';
import { employeeRows, type GitRepo, gitRepo, taskYaml, tempDir, waitFor } from './resources.js';

let api: RestFixtureServer;
let repo: GitRepo;
let state: { dir: string; cleanup(): void };
let secrets: SecretsDir;
let h: Harness | undefined;

const ready = (conditions: Condition[] | undefined) => {
  const c = conditions?.find((x) => x.type === 'Ready');
  return c && { status: c.status, reason: c.reason, message: c.message };
};

const bearerConnector = (baseUrl: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api, namespace: iga}
spec:
  type: rest
  rest:
    baseUrl: ${baseUrl}
    auth: {type: bearer, secretRef: {name: hr-token}}
    pagination: {type: pageIncrement, pageSize: 10}
`;

beforeEach(async () => {
  api = await RestFixtureServer.start();
  api.collection('/employees', employeeRows(3), { paging: 'page' });
  repo = gitRepo();
  state = tempDir();
  secrets = await createSecretsDir();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  await api.close();
  repo.cleanup();
  state.cleanup();
  await secrets.cleanup();
});

describe('Connector Ready', () => {
  it('is False SecretNotFound, naming the secret and where it was looked for, until the secret exists', async () => {
    repo.write('hr-api.yaml', bearerConnector(api.url));
    repo.write('hr-employees.yaml', taskYaml());
    repo.commit();
    h = await startController(repo.dir, state.dir, { secrets: secrets.resolver, checkConnections: false });
    const missing = await waitFor('SecretNotFound', () => {
      const r = ready(h!.connector().status.conditions);
      return r?.reason === 'SecretNotFound' ? r : undefined;
    });
    expect(missing).toEqual({
      status: 'False',
      reason: 'SecretNotFound',
      message: `secret "hr-token" not found (looked in the secrets folder ${secrets.dir}/hr-token/ and the PROVISIO_SECRET_HR_TOKEN_* variables)`,
    });
    expect(missing.message).not.toContain('namespace');

    secrets.write('hr-token', { token: 't0k3n' });
    await h.controller.connectors.refreshAll();
    await h.controller.connectors.settle();
    expect(ready(h.connector().status.conditions)).toEqual({
      status: 'True',
      reason: 'Validated',
      message: 'valid; waiting for the first run of 1 scheduled task',
    });
  });

  it('is False UnsupportedConnector when its scheduled tasks cannot run in this version', async () => {
    // Every built-in type reads now: a build whose ldap type has no extract stands for a type that cannot.
    const withoutLdapReads = createRegistry(
      builtInConnectorTypes.all().map((t) => (t.type === 'ldap' ? { ...t, extract: undefined } : t)),
    );
    repo.write(
      'ldap.yaml',
      `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: eng-ldap, namespace: iga}
spec:
  type: ldap
  ldap: {url: 'ldap://127.0.0.1:1', flavor: openldap, bindDn: 'cn=r,dc=x', secretRef: {name: ldap-bind}, baseDn: 'dc=x'}
`,
    );
    repo.write(
      'accounts.yaml',
      `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: eng-accounts, namespace: iga}
spec:
  connectorRef: {name: eng-ldap}
  usage: scheduled
  mappingsType: identity
  schedule: {cron: "0 0 1 1 *"}
  source:
    ldap: {usersBaseDn: 'ou=people,dc=x', usersFilter: (objectClass=person)}
  mappings:
    identity:
      template: account
      attributes:
        - {external: entryUUID, local: entry_uuid, unique: true}
`,
    );
    repo.commit();
    secrets.write('ldap-bind', { password: 'pw' });
    h = await startController(repo.dir, state.dir, {
      secrets: secrets.resolver,
      checkConnections: false,
      connectorTypes: withoutLdapReads,
    });
    expect(h.store.get('Task', 'iga/eng-accounts')?.errors).toEqual([]);
    expect(h.store.get('Connector', 'iga/eng-ldap')?.errors).toEqual([]);
    expect(ready(h.connector('iga/eng-ldap').status.conditions)).toEqual({
      status: 'False',
      reason: 'UnsupportedConnector',
      message:
        'scheduled tasks of ldap connectors cannot run yet in this version of Provisio: task eng-accounts cannot run',
    });
  });

  it('keeps the health of the run before when a run is stopped on request', async () => {
    repo.write(
      'hr-api.yaml',
      bearerConnector(api.url).replace('auth: {type: bearer, secretRef: {name: hr-token}}', 'auth: {type: none}'),
    );
    repo.write('hr-employees.yaml', taskYaml());
    repo.write('hr-slow.yaml', taskYaml({ name: 'hr-slow', query: '/slow', template: 'slow' }));
    repo.commit();
    h = await startController(repo.dir, state.dir, { checkConnections: false });
    const harness = h;
    api.route('GET', '/slow', () => ({ json: [{ id: 'S1', name: 'Slow' }] }));
    expect(await harness.controller.runOnce()).toMatchObject({ failed: [] });
    expect(harness.connector().status.health).toBe('Healthy');

    // /slow answers only when the test lets it: the run is stopped while it waits.
    let release = () => {};
    const arrived = new Promise<void>((resolve) => {
      api.route('GET', '/slow', async () => {
        resolve();
        await new Promise<void>((r) => {
          release = r;
        });
        return { json: [] };
      });
    });
    harness.controller.trigger('iga/hr-slow');
    await arrived;
    expect(harness.controller.stop('iga/hr-slow')).toBe(true);
    release();
    const stopped = await waitFor('the stopped run', () => {
      const rec = harness.task('iga/hr-slow');
      return rec.status.history?.length === 2 && rec.status.phase === 'Stopped' ? rec : undefined;
    });
    expect(stopped.status.lastRun?.reason).toBe('Stopped');
    // A stop is not a failure: the connector's health and Ready come from the run before it.
    expect(harness.connector().status.health).toBe('Healthy');
    expect(ready(harness.connector().status.conditions)).toEqual({
      status: 'True',
      reason: 'Succeeded',
      message: '2 scheduled tasks succeeded their last run',
    });
  });
});
