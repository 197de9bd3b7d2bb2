/**
 * The LDAP activities end to end: a controller runtime serving the invoke endpoint over HTTP, with event tasks on
 * an OpenLDAP and an AD-shaped connector, acting on real slapd (test/peers/slapd.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { TokenAuth } from '../../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../../src/server/serve.js';
import { postInvoke } from '../../invocations/invoke-client.js';
import { captureLogger } from '../../peers/log-capture.js';
import { SERVICE_PASSWORD, type SlapdPeer, startSlapd } from '../../peers/slapd.js';
import { adUser } from './ad-fixtures.js';
import { group, groupDn, people, userDn } from './helpers.js';

const run = promisify(execFile);
const TOKEN = 'invoke-token-ldap-4c2';
const FIRST_PASSWORD = 'First-Login-Pw-31';
let ldap: SlapdPeer;
let ad: SlapdPeer;
let runtime: ServedRuntime;
let dir: string;
let base: string;
const logs = captureLogger('debug');

const connector = (name: string, peer: SlapdPeer, extra = '') => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: ${name}, namespace: iga}
spec:
  type: ldap
  ldap:
    url: ${peer.url}
    flavor: ${peer.flavor === 'ad' ? 'activeDirectory' : 'openldap'}
    bindDn: "${peer.serviceDn}"
    secretRef: {name: ldap-bind}
    baseDn: "dc=example,dc=org"${extra}
`;

const task = (name: string, conn: string, unique: string) => `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: ${name}, namespace: iga}
spec:
  connectorRef: {name: ${conn}}
  usage: event
  mappingsType: identityAndAccess
  event: {timeout: 5s, password: {mode: default, secretRef: {name: first-password}}}
  mappings:
    identity:
      template: account
      attributes:
        - {external: ${unique}, local: uuid, unique: true}
        - {external: dn, local: dn}
        - {external: ${unique === 'objectGUID' ? 'sAMAccountName' : 'uid'}, local: user_name}
        - {external: sn, local: last_name}
        - {external: mail, local: email}
        - {external: memberOf, local: groups, references: access}
    access:
      template: entitlement
      attributes:
        - {external: ${unique}, local: uuid, unique: true}
        - {external: dn, local: dn}
        - {external: description, local: description}
`;

const invoke = (
  activity: string,
  data: Record<string, unknown>,
  input: Record<string, unknown> = {},
  name = 'ldap-users',
) => postInvoke(base, { namespace: 'iga', name }, TOKEN, { activity, input, data });

beforeAll(async () => {
  ldap = await startSlapd();
  ad = await startSlapd({ flavor: 'ad', tls: true });
  await ldap.add([people(1, 3), group('app-one', [userDn(1)])].join('\n\n'));
  await ad.add(adUser(1));
  dir = mkdtempSync(join(tmpdir(), 'provisio-ldap-activities-'));
  writeFileSync(
    join(dir, 'ldap.yaml'),
    [
      connector('eng-ldap', ldap),
      task('ldap-users', 'eng-ldap', 'entryUUID'),
      connector('corp-ad', ad, '\n    tls: {caSecretRef: {name: ad-ca, key: ca}}'),
      task('ad-users', 'corp-ad', 'objectGUID'),
      connector('corp-ad-plain', ad),
      task('ad-plain', 'corp-ad-plain', 'objectGUID'),
      `apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: ldap-accounts, namespace: iga}
spec:
  connectorRef: {name: eng-ldap}
  usage: scheduled
  mappingsType: identity
  schedule: {interval: 24h}
  source:
    ldap: {usersBaseDn: "ou=people,dc=example,dc=org", usersFilter: "(objectClass=inetOrgPerson)"}
  mappings:
    identity:
      template: account
      attributes:
        - {external: entryUUID, local: uuid, unique: true}
        - {external: uid, local: user_name}
`,
    ].join('---\n'),
  );
  runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    log: logs.log,
    secrets: new LocalSecretResolver(undefined, {
      PROVISIO_SECRET_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
      PROVISIO_SECRET_FIRST_PASSWORD_PASSWORD: FIRST_PASSWORD,
      PROVISIO_SECRET_AD_CA_CA: ad.caCert ?? '',
    }),
    listen: '127.0.0.1:0',
    auth: new TokenAuth([TOKEN]),
    checkConnections: false,
  });
  base = `http://127.0.0.1:${runtime.address!.port}`;
});

afterAll(async () => {
  await runtime.close();
  await ldap.stop();
  await ad.stop();
  rmSync(dir, { recursive: true, force: true });
});

const entry = (peer: SlapdPeer, dn: string, attrs: string[]) => peer.search(dn, '(objectClass=*)', attrs);

describe('OpenLDAP user activities', () => {
  const dn = 'uid=doe\\2C j,ou=people,dc=example,dc=org';

  it('createUser adds the entry from the mapped attributes with the first-login password, 201 {dn}', async () => {
    const res = await invoke('createUser', {
      dn,
      user_name: 'doe, j',
      last_name: 'Doe',
      email: ['jd@example.org', 'j.doe@example.org'],
    });
    expect(res.body).toEqual({
      state: 'Completed',
      statusCode: 201,
      response: { dn },
      exception: null,
      durationMs: expect.any(Number),
    });
    const saved = await entry(ldap, dn, ['uid', 'sn', 'mail', 'objectClass']);
    expect(saved).toContain('uid: doe, j');
    expect(saved).toContain('mail: j.doe@example.org');
    // The password works for a bind, and appears nowhere in the logs.
    const whoami = await run('ldapwhoami', [
      '-x',
      '-H',
      ldap.url,
      '-D',
      'uid=doe\\2C j,ou=people,dc=example,dc=org',
      '-w',
      FIRST_PASSWORD,
    ]);
    expect(whoami.stdout.trim()).toBe('dn:uid=doe\\2C j,ou=people,dc=example,dc=org');
    expect(logs.text()).not.toContain(FIRST_PASSWORD);
  });

  it('createUser of an existing DN is an Exception with 409 and the server words', async () => {
    const res = await invoke('createUser', { dn: userDn(1), user_name: 'user1', last_name: 'x' });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 409 });
    expect(res.body.exception).toMatch(/^AlreadyExists \(68\)/);
  });

  it('updateUser replaces the mapped attributes present in data; null clears one', async () => {
    expect((await invoke('updateUser', { dn: userDn(2), last_name: 'Hopper', email: null })).body).toMatchObject({
      state: 'Completed',
      statusCode: 204,
    });
    const saved = await entry(ldap, userDn(2), ['sn', 'mail']);
    expect(saved).toContain('sn: Hopper');
    expect(saved).not.toContain('mail:');
  });

  it('deactivateUser locks the account through ppolicy, activateUser unlocks it', async () => {
    expect((await invoke('deactivateUser', { dn: userDn(3) })).body.state).toBe('Completed');
    expect(await entry(ldap, userDn(3), ['pwdAccountLockedTime'])).toContain('pwdAccountLockedTime: 000001010000Z');
    expect((await invoke('activateUser', { dn: userDn(3) })).body.state).toBe('Completed');
    expect(await entry(ldap, userDn(3), ['pwdAccountLockedTime'])).not.toContain('pwdAccountLockedTime');
    expect((await invoke('activateUser', { dn: userDn(3) })).body.state).toBe('Completed');
  });

  it('adds and removes memberships by group DN, reporting what was already so', async () => {
    const add = await invoke('addUserToGroups', { dn: userDn(2) }, { groups: [groupDn('app-one')] });
    expect(add.body).toMatchObject({ state: 'Completed', response: { changed: [groupDn('app-one')], unchanged: [] } });
    const again = await invoke('addUserToGroups', { dn: userDn(2) }, { groups: groupDn('app-one') });
    expect(again.body.response).toEqual({ changed: [], unchanged: [groupDn('app-one')] });
    const member = await invoke('verifyGroupMembership', { dn: userDn(2) }, { group: groupDn('app-one') });
    expect(member.body).toMatchObject({ state: 'Completed', statusCode: 200 });
    await invoke('removeUserFromGroups', { dn: userDn(2) }, { groups: [groupDn('app-one')] });
    const gone = await invoke('verifyGroupMembership', { dn: userDn(2) }, { group: groupDn('app-one') });
    expect(gone.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(gone.body.exception).toBe(`${userDn(2)} is not a member of ${groupDn('app-one')}`);
  });

  it('createGroup, verifyGroup, deleteGroup', async () => {
    const dnG = 'cn=app-new,ou=groups,dc=example,dc=org';
    const none = await invoke('createGroup', { dn: dnG, description: 'New' });
    expect(none.body).toMatchObject({ state: 'Exception', statusCode: 400 });
    const made = await invoke('createGroup', { dn: dnG, description: 'New' }, { members: [userDn(1)] });
    expect(made.body).toMatchObject({ state: 'Completed', statusCode: 201, response: { dn: dnG } });
    expect((await invoke('verifyGroup', { dn: dnG })).body.statusCode).toBe(200);
    expect((await invoke('deleteGroup', { dn: dnG })).body.statusCode).toBe(204);
    const after = await invoke('verifyGroup', { dn: dnG });
    expect(after.body).toMatchObject({ state: 'Exception', statusCode: 404, exception: `no group ${dnG}` });
  });

  it('readUser answers the mapped attributes by local name; verifyUser and deleteUser', async () => {
    const res = await invoke('readUser', { dn: userDn(1) });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 200 });
    expect(res.body.response).toMatchObject({
      dn: userDn(1),
      user_name: ['user1'],
      email: ['user1@example.org'],
      groups: [groupDn('app-one')],
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect((await invoke('deleteUser', { dn: userDn(1) })).body.statusCode).toBe(204);
    const gone = await invoke('verifyUser', { dn: userDn(1) });
    expect(gone.body).toMatchObject({ state: 'Exception', statusCode: 404, exception: `no user ${userDn(1)}` });
  });

  it('refuses an invocation without the DN with 400', async () => {
    const res = await invoke('updateUser', { last_name: 'x' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('data.dn (the DN) is required by updateUser');
  });
});

describe('Active Directory user activities', () => {
  const dn = 'CN=New Person,ou=people,dc=example,dc=org';
  it('createUser sets unicodePwd over StartTLS, then enables the account and asks for a change at next logon', async () => {
    // What a real DC adds by itself, the AD-shaped slapd needs given (mstop's MUST attributes).
    const attributes = {
      objectClass: ['top', 'person', 'organizationalPerson', 'user', 'extensibleObject'],
      instanceType: 4,
      objectCategory: 'CN=Person,CN=Schema,CN=Configuration,dc=example,dc=org',
      nTSecurityDescriptor: 'sd',
    };
    const res = await invoke('createUser', { dn, user_name: 'newp', last_name: 'Person' }, { attributes }, 'ad-users');
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 201 });
    const saved = await entry(ad, dn, ['userAccountControl', 'pwdLastSet', 'unicodePwd', 'sAMAccountName']);
    expect(saved).toContain('userAccountControl: 512');
    expect(saved).toContain('pwdLastSet: 0');
    expect(saved).toContain(`unicodePwd:: ${Buffer.from(`"${FIRST_PASSWORD}"`, 'utf16le').toString('base64')}`);
  });

  it('refuses to send a password over a plain connection', async () => {
    const res = await invoke('resetPassword', { dn }, {}, 'ad-plain');
    expect(res.body).toMatchObject({
      state: 'Exception',
      statusCode: 400,
      exception: 'Active Directory takes a password only over ldaps:// or StartTLS (set spec.ldap.tls)',
    });
  });

  it('deactivateUser and activateUser flip bit 2 of userAccountControl', async () => {
    await invoke('deactivateUser', { dn }, {}, 'ad-users');
    expect(await entry(ad, dn, ['userAccountControl'])).toContain('userAccountControl: 514');
    await invoke('activateUser', { dn }, {}, 'ad-users');
    expect(await entry(ad, dn, ['userAccountControl'])).toContain('userAccountControl: 512');
  });
});

describe('runTask on an LDAP event task', () => {
  it('starts a scheduled task of the namespace and answers with its run once it finished', async () => {
    const res = await invoke('runTask', {}, { task: 'ldap-accounts', wait: true, timeoutSeconds: 60 });
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('Completed');
    expect(JSON.stringify(res.body.response)).toContain('Succeeded');
  });
});
