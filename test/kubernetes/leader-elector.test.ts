/**
 * The leader Lease in-process, two candidates against the fake API server: one leader at a time; a leader
 * that cannot renew stops leading within its renew deadline, before the other may take over; a deliberate
 * stop releases the Lease so the standby takes over without waiting for it to expire.
 */
import { CoordinationV1Api, type V1LeaseSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../src/controller/leader-election.js';
import { silentLogger } from '../../src/log/logger.js';
import { waitFor } from '../controller/resources.js';
import { type FakeApiServer, startFakeApiServer } from '../peers/kube-apiserver/index.js';

let kube: FakeApiServer;
beforeAll(async () => {
  kube = await startFakeApiServer();
});
afterAll(async () => {
  await kube.close();
});

function candidate(identity: string, name: string, log: string[]) {
  return new LeaderElector({
    kubeConfig: kube.kubeConfig(),
    namespace: 'default',
    name,
    identity,
    log: silentLogger,
    leaseDurationSeconds: 2,
    renewDeadlineSeconds: 1,
    retryPeriodSeconds: 0.2,
    onStartedLeading: () => log.push(`${identity} leads`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
}

const lease = async (name: string): Promise<V1LeaseSpec | undefined> =>
  (await kube.kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace: 'default' })).spec;

describe('leader election on a Lease', () => {
  it('has one leader; one that cannot renew steps down before the other takes over', async () => {
    const log: string[] = [];
    const a = candidate('a', 'election-1', log);
    a.start();
    await waitFor('a leads', () => a.isLeader);
    const b = candidate('b', 'election-1', log);
    b.start();
    await new Promise((r) => setTimeout(r, 2500)); // longer than the lease: a renews, so b must not take over
    expect(b.isLeader).toBe(false);
    expect(log).toEqual(['a leads']);
    const before = await lease('election-1');
    expect(before).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 2, leaseTransitions: 0 });
    // MicroTime, as the API server wants it: six fractional digits.
    expect(String(before?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    // a's renewals fail from now on (the API server is unreachable for it).
    kube.fault({
      method: 'PUT',
      path: '/apis/coordination.k8s.io/v1/namespaces/default/leases/election-1',
      status: 500,
      times: 1000,
    });
    await waitFor('a steps down', () => !a.isLeader, 5000);
    const steppedDownAt = Date.now();
    kube.clearFaults();
    await waitFor('b takes over', () => b.isLeader, 10_000);
    // b waited for the lease to expire (2 s after a's last renewal); a stepped down after 1 s without one.
    expect(log).toEqual(['a leads', 'a stopped', 'b leads']);
    expect(Date.now() - steppedDownAt).toBeGreaterThan(500);
    expect(await lease('election-1')).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await a.stop();
    await b.stop();
  }, 30_000);

  it('releases the Lease on stop, and the standby takes over at once', async () => {
    const log: string[] = [];
    const a = candidate('a', 'election-2', log);
    a.start();
    await waitFor('a leads', () => a.isLeader);
    const b = candidate('b', 'election-2', log);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    const stoppedAt = Date.now();
    await a.stop();
    await waitFor('b leads', () => b.isLeader, 5000);
    expect(Date.now() - stoppedAt).toBeLessThan(1500); // well before the 2 s lease would have expired
    expect(log).toEqual(['a leads', 'b leads']);
    expect(await lease('election-2')).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.stop();
    expect((await lease('election-2'))?.holderIdentity).toBeUndefined();
  }, 30_000);
});
