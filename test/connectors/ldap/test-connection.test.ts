/**
 * Test connection against a real slapd: plain ldap://, StartTLS and ldaps:// with the CA from the Secret, a
 * certificate nobody trusts, a wrong password, an account the password policy locked, and AD's bind sub-codes.
 */
import { InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainBindError } from '../../../src/connectors/ldap/errors.js';
import { ldapConnector as ldapType } from '../../../src/connectors/ldap/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Connector } from '../../../src/model/resources.js';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { SERVICE_PASSWORD, type SlapdPeer, startSlapd } from '../../peers/slapd.js';
import { ldapConnector } from './helpers.js';

let ldap: SlapdPeer;

const check = (connector: Connector, password = SERVICE_PASSWORD) =>
  ldapType.checkConnection!({
    connector,
    namespace: 'iga',
    secrets: new LocalSecretResolver(undefined, {
      PROVISIO_SECRET_LDAP_BIND_PASSWORD: password,
      PROVISIO_SECRET_LDAP_CA_CA: ldap.caCert ?? '',
    }),
    signal: new AbortController().signal,
    log: silentLogger,
  });

const CA = { caSecretRef: { name: 'ldap-ca', key: 'ca' } };

beforeAll(async () => {
  ldap = await startSlapd({ tls: true });
  await ldap.add(
    'dn: uid=locked,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: locked\ncn: L\nsn: L\nuserPassword: Right-pw-1',
  );
});
afterAll(() => ldap.stop());

describe('LDAP test-connection', () => {
  it('binds and reports the naming contexts and paged results over a plain connection', async () => {
    const r = await check(ldapConnector(ldap));
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(
      new RegExp(
        `^bound to 127\\.0\\.0\\.1:\\d+ as "${ldap.serviceDn}" over a plain connection \\(no TLS\\); naming contexts: cn=accesslog, dc=example,dc=org; paged results supported \\(\\d+ controls\\)$`,
      ),
    );
  });

  it('upgrades ldap:// with StartTLS when spec.ldap.tls is set, trusting the CA from the Secret', async () => {
    const r = await check(ldapConnector(ldap, { tls: CA }));
    expect(r).toMatchObject({ ok: true });
    expect(r.message).toContain('over StartTLS');
  });

  it('connects over ldaps:// with the CA from the Secret', async () => {
    const r = await check(ldapConnector(ldap, { url: ldap.ldapsUrl!, tls: CA }));
    expect(r).toMatchObject({ ok: true });
    expect(r.message).toContain('over ldaps');
  });

  it('refuses a server certificate no trusted CA signed', async () => {
    const r = await check(ldapConnector(ldap, { url: ldap.ldapsUrl! }));
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(
      /^the server certificate is not trusted \(self-signed certificate in certificate chain\): add the CA that signed it as spec\.ldap\.tls\.caSecretRef, or set spec\.ldap\.tls\.serverName to a name the certificate carries$/,
    );
  });

  it('explains a wrong password without showing it', async () => {
    const r = await check(ldapConnector(ldap), 'Wrong-pass-99');
    expect(r).toEqual({
      ok: false,
      message: `bind as "${ldap.serviceDn}" refused: invalid credentials (49): the bind DN or password is wrong, or the password policy (ppolicy) locked the account after failed binds or its password expired`,
    });
  });

  it('fails with the same explanation once ppolicy locked the account, even with the right password', async () => {
    const connector = ldapConnector(ldap, { bindDn: 'uid=locked,ou=people,dc=example,dc=org' });
    for (let i = 0; i < 3; i++) expect((await check(connector, 'Bad-pw-000')).ok).toBe(false);
    const r = await check(connector, 'Right-pw-1');
    expect(r.ok).toBe(false);
    expect(r.message).toContain('refused: invalid credentials (49)');
    const locked = await ldap.search('uid=locked,ou=people,dc=example,dc=org', '(objectClass=*)', [
      'pwdAccountLockedTime',
    ]);
    expect(locked).toMatch(/pwdAccountLockedTime: \d{14}Z/);
  });

  it('names a missing secret key', async () => {
    const r = await ldapType.checkConnection!({
      connector: ldapConnector(ldap),
      namespace: 'iga',
      secrets: new LocalSecretResolver(undefined, { PROVISIO_SECRET_LDAP_BIND_OTHER: 'x' }),
      signal: new AbortController().signal,
      log: silentLogger,
    });
    expect(r).toEqual({
      ok: false,
      message: 'spec.ldap.secretRef: secret "ldap-bind" in namespace "iga" has no key "password"',
    });
  });
});

describe("Active Directory's bind sub-codes", () => {
  const ad = (data: string) =>
    explainBindError(
      new InvalidCredentialsError(
        `80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data ${data}, v4563`,
      ),
      'svc@corp.example.com',
    );
  it.each([
    ['525', 'the bind account does not exist (AD 525: user not found)'],
    ['52e', 'the bind password is wrong (AD 52e: invalid credentials)'],
    ['530', 'the bind account may not log on at this time (AD 530: logon hours)'],
    ['532', 'the bind account password has expired (AD 532): set a new one and update the Secret'],
    ['533', 'the bind account is disabled (AD 533)'],
    ['701', 'the bind account has expired (AD 701: accountExpires passed)'],
    ['773', 'the bind account must change its password before it can bind (AD 773: pwdLastSet is 0)'],
    ['775', 'the bind account is locked out (AD 775): wait for the lockout to end or unlock it'],
  ])('explains data %s', (code, why) => {
    expect(ad(code)).toBe(`bind as "svc@corp.example.com" refused: ${why}`);
  });
});
