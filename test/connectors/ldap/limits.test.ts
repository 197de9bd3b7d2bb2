/**
 * Paged reads and the server's limits, on a real slapd whose non-root binds stop at 500 entries per search
 * (size.soft=500): every search is paged, so 620 users all arrive; a server that still stops a paged read
 * (size.prtotal) fails the run, and a failed run never marks anything deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlapdPeer, startSlapd } from '../../peers/slapd.js';
import { ldapConnector, ldapEngine, ldapTask, people, run } from './helpers.js';

const identityOnly = () =>
  ldapTask({ mappingsType: 'identity', mappings: { identity: ldapTask().spec.mappings!.identity! } });

describe('paged reads', () => {
  let ldap: SlapdPeer;
  beforeAll(async () => {
    ldap = await startSlapd();
    await ldap.add(people(1, 620));
  });
  afterAll(() => ldap.stop());

  it('reads all 620 users although the server returns at most 500 entries to an unpaged search', async () => {
    const fx = ldapEngine();
    try {
      const r = await run(fx.deps, identityOnly(), ldapConnector(ldap, { pageSize: 200 }));
      expect(r.reason).toBe('Succeeded');
      expect(r.extract).toMatchObject({ status: 'Succeeded', records: 620, info: 'read 620 records in 4 API calls' });
      expect((await fx.cards('account')).length).toBe(620);
    } finally {
      await fx.close();
    }
  });
});

describe('a size limit on paged reads', () => {
  let ldap: SlapdPeer;
  beforeAll(async () => {
    ldap = await startSlapd({ pagedTotalLimit: 300 });
    await ldap.add(people(1, 350));
  });
  afterAll(() => ldap.stop());

  it('fails the run (sizeLimitExceeded is never the end of the data) and marks nothing deleted', async () => {
    const fx = ldapEngine();
    try {
      const small = identityOnly();
      small.spec.source!.ldap!.usersFilter = '(&(objectClass=inetOrgPerson)(uid=user1*))';
      const first = await run(fx.deps, small, ldapConnector(ldap));
      expect(first.extract).toMatchObject({ status: 'Succeeded', records: 111 });
      const r = await run(fx.deps, identityOnly(), ldapConnector(ldap));
      expect(r.reason).toBe('ExtractFailed');
      expect(r.extract?.status).toBe('Failed');
      expect(r.extract?.info).toMatch(
        /^reading users under ou=people,dc=example,dc=org failed on 127\.0\.0\.1:\d+: the server stopped the search at its size limit \(sizeLimitExceeded, 4\) although the read was paged: raise the limit for the bind account \(OpenLDAP size\.prtotal, AD MaxPageSize\); read 300 records in 3 API calls$/,
      );
      expect(r.load?.deleted ?? 0).toBe(0);
      expect((await fx.cards('account')).filter((c) => c.status === 'Deleted')).toEqual([]);
    } finally {
      await fx.close();
    }
  });
});
