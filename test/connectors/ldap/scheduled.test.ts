/**
 * Scheduled OpenLDAP runs through the real engine against a real slapd (memberof, refint, ppolicy, accesslog):
 * base DN + filter, only mapped attributes, multi-valued lists, memberships resolved to the groups' and users'
 * keys (nested groups, members outside the read scope reported), paged reads past the server's size limit, a
 * sizeLimitExceeded that fails the run, and deletion marking after a complete run.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Card } from '../../../src/targets/types.js';
import type { EngineFixture } from '../../engine/helpers.js';
import { type SlapdPeer, startSlapd } from '../../peers/slapd.js';
import { group, groupDn, ldapConnector, ldapEngine, ldapTask, people, run, userDn } from './helpers.js';

let ldap: SlapdPeer;
let fx: EngineFixture;
const uuid = new Map<string, string>();

const byName = (cards: Card[], key: string) => new Map(cards.map((c) => [String(c[key]), c]));

beforeAll(async () => {
  ldap = await startSlapd();
  await ldap.add(
    [
      people(1, 12, (i) => (i === 1 ? ['mail: first.one@example.org', 'jpegPhoto:: /9j/4AAQSkZJRg=='] : [])),
      `dn: uid=outsider,ou=elsewhere,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: outsider\ncn: O\nsn: O`,
      group('app-two', [userDn(3)]),
      group('app-one', [userDn(1), userDn(2), groupDn('app-two')]),
      group('partners', [userDn(4), 'uid=outsider,ou=elsewhere,dc=example,dc=org']),
      group('not-read', [userDn(5)], 'elsewhere'),
    ].join('\n\n'),
  );
  const out = await ldap.search('dc=example,dc=org', '(|(uid=*)(cn=app-*)(cn=partners))', ['entryUUID']);
  for (const block of out.trim().split('\n\n')) {
    const dn = /^dn: (.*)$/m.exec(block)?.[1] ?? '';
    uuid.set(dn, /^entryUUID: (.*)$/m.exec(block)?.[1] ?? '');
  }
});
afterAll(() => ldap.stop());
beforeEach(() => {
  fx = ldapEngine();
});
afterEach(() => fx.close());

describe('scheduled OpenLDAP run (identityAndAccess)', () => {
  it('loads users and groups with memberships as references to each other, nested groups included', async () => {
    const task = ldapTask();
    task.spec.mappings!.access!.attributes.push({ external: 'memberOf', local: 'parent_groups', references: 'access' });
    const r = await run(fx.deps, task, ldapConnector(ldap));
    expect(r.reason).toBe('Succeeded');
    expect(r.extract).toMatchObject({ status: 'Succeeded', records: 15 });
    expect(r.load).toMatchObject({ status: 'Succeeded', created: 15, failed: 0 });
    const accounts = byName(await fx.cards('account'), 'dn');
    expect(accounts.size).toBe(12);
    expect(accounts.get(userDn(1))).toEqual({
      uuid: uuid.get(userDn(1)),
      // uid and mail are multi-valued in the schema: lists, even with one value.
      user_name: ['user1'],
      dn: userDn(1),
      email: ['user1@example.org', 'first.one@example.org'],
      member_of: [uuid.get(groupDn('app-one'))],
      task_id: 'iga/accounts',
    });
    expect(accounts.get(userDn(2))?.email).toEqual(['user2@example.org']);
    // user3 is in app-two, which is nested in app-one: memberOf (the memberof overlay) names the direct group.
    expect(accounts.get(userDn(3))?.member_of).toEqual([uuid.get(groupDn('app-two'))]);
    const groups = byName(await fx.cards('entitlement'), 'name');
    expect([...groups.keys()].sort()).toEqual(['app-one', 'app-two', 'partners']);
    expect(groups.get('app-one')?.members).toEqual([uuid.get(userDn(1)), uuid.get(userDn(2))]);
    // Nested groups through the groups' own memberOf.
    expect(groups.get('app-two')?.parent_groups).toEqual([uuid.get(groupDn('app-one'))]);
    expect(groups.get('partners')?.members).toEqual([uuid.get(userDn(4))]);
    expect(r.extract?.info).toBe(
      [
        'read 15 records in 2 API calls',
        '1 memberOf value names entries outside what this run read (such as "cn=not-read,ou=elsewhere,dc=example,dc=org"): not loaded as references',
        '1 member value names entries outside what this run read (such as "uid=outsider,ou=elsewhere,dc=example,dc=org"): not loaded as references',
        '1 member value names records of the other kind (nested groups or users): left out of this reference',
      ].join('; '),
    );
  });
});
