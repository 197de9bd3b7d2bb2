/**
 * The Active Directory flavour against an AD-shaped slapd (Debian's msuser.schema with matching rules): AD
 * filters (bitwise userAccountControl), binary objectGUID / objectSid as canonical strings, thumbnailPhoto as
 * base64, FILETIME and generalized time as ISO, `accountDisabled`, and memberOf on AD groups.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EngineFixture } from '../../engine/helpers.js';
import { b64, type SlapdPeer, startSlapd } from '../../peers/slapd.js';
import { adGroup, adTask, adUser } from './ad-fixtures.js';
import { ldapConnector, ldapEngine, run } from './helpers.js';

let ad: SlapdPeer;
let fx: EngineFixture;
const PHOTO = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]);

beforeAll(async () => {
  ad = await startSlapd({ flavor: 'ad' });
  await ad.add(
    [
      adUser(1, {
        extra: [
          'accountExpires: 133801632000000000',
          'lastLogonTimestamp: 133790000000000000',
          'whenChanged: 20261201083000.0Z',
          b64('thumbnailPhoto', PHOTO),
        ],
      }),
      adUser(2, { uac: 514, extra: ['accountExpires: 9223372036854775807'] }),
      adUser(3),
      adGroup('Sales', ['CN=User 1,ou=people,dc=example,dc=org', 'CN=User 2,ou=people,dc=example,dc=org']),
    ].join('\n\n'),
  );
});
afterAll(() => ad.stop());
beforeEach(() => {
  fx = ldapEngine();
});
afterEach(() => fx.close());

describe('Active Directory flavour', () => {
  it('reads AD users with canonical GUID and SID strings, ISO times, accountDisabled, photo and group keys', async () => {
    const r = await run(fx.deps, adTask(), ldapConnector(ad));
    expect(r.reason).toBe('Succeeded');
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 4 });
    const accounts = new Map((await fx.cards('account')).map((c) => [c.user_name, c]));
    expect(accounts.get('user1')).toEqual({
      guid: '00000001-89ab-cdef-0123-456789abcdef',
      sid: 'S-1-5-21-3623811015-3361044348-30300820-1101',
      user_name: 'user1',
      dn: 'cn=User 1,ou=people,dc=example,dc=org', // as the server spells the DN
      disabled: false,
      expires: '2025-01-01T00:00:00.000Z',
      last_logon: '2024-12-18T12:53:20.000Z',
      changed: '2026-12-01T08:30:00.000Z',
      photo: PHOTO.toString('base64'),
      groups: ['00002000-0000-0000-0000-00000000abcd'],
      task_id: 'iga/accounts',
    });
    expect(accounts.get('user2')).toMatchObject({ disabled: true });
    // accountExpires 9223372036854775807 is AD's "never": no date.
    expect(accounts.get('user2')?.expires).toBeUndefined();
    const [sales] = await fx.cards('entitlement');
    expect(sales).toMatchObject({
      name: 'Sales',
      members: ['00000001-89ab-cdef-0123-456789abcdef', '00000002-89ab-cdef-0123-456789abcdef'],
    });
  });

  it('applies AD filters: enabled users only by the ACCOUNTDISABLE bit', async () => {
    const task = adTask({ mappingsType: 'identity' });
    task.spec.source!.ldap!.usersFilter = '(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))';
    const r = await run(fx.deps, task, ldapConnector(ad));
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 2 });
    expect((await fx.cards('account')).map((c) => c.user_name).sort()).toEqual(['user1', 'user3']);
  });
});
