/**
 * Generic Microsoft Graph tasks against the simulator: any Graph path paged through @odata.nextLink, one level
 * of subqueries per record sent as $batch requests of at most 20 (an item's own 429 waited out), results mapped
 * as `<subquery>.<attr>` with table indexes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../../src/model/resources.js';
import type { EngineFixture } from '../../engine/helpers.js';
import { GraphSimulator } from '../../peers/msgraph/index.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { createTestPki, type TestPki } from '../../peers/tls.js';
import { CLIENT_ID, CLIENT_SECRET, graphConnector, graphEngine, run, TENANT } from './helpers.js';

let pki: TestPki;
let sim: GraphSimulator;
let secrets: SecretsDir;
let fx: EngineFixture;

const USER = '/v1.0/users/{userId}';
const PROTECTION = '/deviceManagement/managedDevices/{id}/windowsProtectionState';

function devicesTask(): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'devices', namespace: 'iga' },
    spec: {
      connectorRef: { name: 'entra' },
      usage: 'scheduled',
      mappingsType: 'generic',
      schedule: { interval: '12h' },
      source: { msgraph: { query: '/v1.0/deviceManagement/managedDevices', subqueries: [USER, PROTECTION] } },
      mappings: {
        generic: {
          template: 'device',
          taskIdAttribute: 'task_id',
          attributes: [
            { external: 'id', local: 'device_id', unique: true },
            { external: 'deviceName', local: 'name' },
            { external: `${USER}.userPrincipalName`, local: 'user_upn' },
            { external: `${USER}.businessPhones.0`, local: 'user_phone' },
            { external: `${PROTECTION}.realTimeProtectionEnabled`, local: 'realtime' },
          ],
        },
      },
    },
  };
}

beforeAll(async () => {
  pki = await createTestPki();
  sim = await GraphSimulator.start(pki, { tenantId: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  secrets = await createSecretsDir({
    'entra-app': { clientSecret: CLIENT_SECRET },
    'entra-ca': { 'ca.crt': pki.caCert },
  });
  for (let i = 1; i <= 4; i++) {
    sim.dir.addUser({ id: `u${i}`, userPrincipalName: `user${i}@acme.example.com`, businessPhones: [`+358 40 ${i}`] });
  }
  const devices = Array.from({ length: 25 }, (_, k) => ({
    id: `d${k + 1}`,
    deviceName: `LAPTOP-${k + 1}`,
    // Every fifth device has no primary user: its user subquery is null.
    ...(k % 5 === 4 ? {} : { userId: `u${(k % 4) + 1}` }),
  }));
  sim.dir.collections.set('/deviceManagement/managedDevices', devices);
  for (const d of devices) {
    if (d.id !== 'd3') {
      sim.dir.resources.set(`/deviceManagement/managedDevices/${d.id}/windowsProtectionState`, {
        realTimeProtectionEnabled: d.id !== 'd2',
      });
    }
  }
});
afterAll(async () => {
  await sim.close();
  await secrets.cleanup();
  await pki.cleanup();
});
beforeEach(() => {
  fx = graphEngine(secrets);
  sim.reset();
  sim.pageCap = 10;
});

describe('generic query with subqueries', () => {
  it('pages the query, batches the subqueries twenty at a time and maps their results', async () => {
    sim.fault({ path: /^\/v1\.0\/users\/u2/, status: 429, retryAfter: 0, times: 1, inBatch: true });
    const r = await run(fx.deps, devicesTask(), graphConnector(sim));
    expect(r.reason).toBe('Succeeded');
    expect(r.extract?.records).toBe(25);
    const cards = new Map((await fx.cards('device')).map((c) => [c.device_id, c]));
    expect(cards.get('d1')).toEqual({
      device_id: 'd1',
      name: 'LAPTOP-1',
      user_upn: 'user1@acme.example.com',
      user_phone: '+358 40 1',
      realtime: true,
      task_id: 'iga/devices',
    });
    expect(cards.get('d2')?.realtime).toBe(false);
    // d3 has no protection state (404 inside the batch): null, the run goes on.
    expect(cards.get('d3')?.user_upn).toBe('user3@acme.example.com');
    expect(cards.get('d3')?.realtime ?? null).toBeNull();
    expect(cards.get('d5')?.user_upn ?? null).toBeNull();
    expect(cards.get('d5')?.realtime).toBe(true);
    const outer = sim.graphCalls().filter((q) => !q.batched);
    const batches = outer.filter((q) => q.path === '/v1.0/$batch');
    // Per page, each distinct subquery once: the four users and the page's protection states (14, 14, 9), plus
    // the throttled item again in a batch of its own: four $batch calls instead of 46 GETs.
    expect(outer.filter((q) => q.path === '/v1.0/deviceManagement/managedDevices')).toHaveLength(3);
    expect(batches).toHaveLength(4);
    expect(sim.requests.filter((q) => q.batched)).toHaveLength(38);
    expect(r.extract?.info).toContain('1 throttled Graph calls waited out (Retry-After)');
  });
});
