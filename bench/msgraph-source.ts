/**
 * The tenant of bench/msgraph.ts, in its own process: the Graph simulator of the tests (test/peers/msgraph) over
 * HTTPS with a throwaway CA, seeded with `--users N --groups M` (20 members per group on average: 10 to 30).
 * Reports `{port, caCert}` over IPC when ready; `{changes: n}` applies n changes (property updates, deletions,
 * member adds and removes) for the incremental run and answers `{applied}`; `stop` ends it.
 */
import { GraphSimulator } from '../test/peers/msgraph/index.js';
import { createTestPki } from '../test/peers/tls.js';
import { intOption } from './lib/measure.js';

const users = intOption('--users', 50_000);
const groups = intOption('--groups', 7_000);
/** Member reads answered 429 (Retry-After: 0) once each: the run must wait them out. */
const throttle = intOption('--throttle', 20);

const pki = await createTestPki();
const sim = await GraphSimulator.start(pki, {
  tenantId: 'bench-tenant',
  clientId: 'bench-app',
  clientSecret: 'bench-s3cret',
});
sim.deltaPageSize = 200;
for (let i = 1; i <= users; i++) {
  sim.dir.addUser({
    id: `u${i}`,
    userPrincipalName: `user${i}@bench.example.com`,
    displayName: `Given${i} Family${i}`,
    givenName: `Given${i}`,
    surname: `Family${i}`,
    mail: `user${i}@bench.example.com`,
    department: `Dept ${i % 40}`,
    jobTitle: `Title ${i % 12}`,
    employeeId: String(100000 + i),
    accountEnabled: i % 50 !== 0,
  });
}
for (let g = 1; g <= groups; g++) {
  const size = 10 + (g % 21);
  const members = Array.from({ length: size }, (_, k) => `u${((g * 37 + k * 101) % users) + 1}`);
  sim.dir.addGroup({ id: `g${g}`, displayName: `sg-${g}`, description: `Group ${g}`, securityEnabled: true }, [
    ...new Set(members),
  ]);
}

sim.fault({ path: /^\/v1\.0\/groups\/g\d+\/members/, status: 429, retryAfter: 0, times: throttle });

function change(n: number): number {
  let applied = 0;
  for (let k = 0; k < n; k++) {
    const i = ((k * 7919) % users) + 1;
    if (k % 10 === 9 && sim.dir.users.has(`u${i}`)) sim.dir.deleteUser(`u${i}`);
    else if (k % 10 === 8) sim.dir.addMember(`g${(k % groups) + 1}`, `u${i}`);
    else if (sim.dir.users.has(`u${i}`)) sim.dir.updateUser(`u${i}`, { department: `Moved ${k}` });
    applied++;
  }
  return applied;
}

process.on('message', (m: unknown) => {
  if (m === 'stop') {
    void sim
      .close()
      .then(() => pki.cleanup())
      .then(() => process.exit(0));
  } else if (typeof m === 'object' && m && 'changes' in m) {
    process.send?.({ applied: change(Number((m as { changes: number }).changes)), requests: sim.requests.length });
  } else if (m === 'requests') {
    const throttled = sim.requests.filter((r) => r.status === 429).length;
    process.send?.({ requests: sim.requests.length, throttled });
  }
});
process.send?.({ port: sim.port, caCert: pki.caCert });
