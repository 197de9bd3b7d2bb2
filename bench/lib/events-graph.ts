/**
 * The Graph upstream of the event benchmark's Graph phase, run as its own process (bench/events.ts forks it):
 * the Graph simulator of the tests (test/peers/msgraph, HTTPS with a throwaway CA, the token endpoint on the
 * same origin) holding the users the load updates, its request log off so that it does not grow with the load.
 *
 *   node --import tsx bench/lib/events-graph.ts --ca-file FILE --users N
 *
 * Writes the CA certificate to --ca-file; IPC as bench/lib/events-upstream.ts: {type: 'ready', port}, 'stats'
 * (with the Graph calls served), 'stop'.
 */
import { writeFileSync } from 'node:fs';
import { GraphSimulator } from '../../test/peers/msgraph/index.js';
import { createTestPki } from '../../test/peers/tls.js';
import { GRAPH_APP, graphUserId } from './events-graph-app.js';
import { type ParentMessage, statsMessage } from './events-protocol.js';
import { intOption, option } from './measure.js';

const caFile = option('--ca-file');
if (!caFile) throw new Error('--ca-file FILE is required');
const users = intOption('--users', 64);

const pki = await createTestPki();
writeFileSync(caFile, pki.caCert);
const sim = await GraphSimulator.start(pki, GRAPH_APP);
sim.keepRequests = false;
for (let i = 0; i < users; i++) {
  sim.dir.addUser({ id: graphUserId(i), userPrincipalName: `bench${i}@example.com`, displayName: `Bench ${i}` });
}
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 100);
sampler.unref();

const stop = (): void => {
  void sim
    .close()
    .then(() => pki.cleanup())
    .finally(() => process.exit(0));
};
process.on('message', (m: ParentMessage) => {
  if (m === 'stats') process.send?.(statsMessage(peakRss, sim.dir.version));
  if (m === 'stop') stop();
});
process.on('disconnect', stop);
process.send?.({ type: 'ready', port: sim.port, rssMb: process.memoryUsage.rss() / 1024 / 1024 });
