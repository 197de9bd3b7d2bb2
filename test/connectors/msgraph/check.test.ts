/** The Microsoft Graph connection check against the simulator: a token, then one cheap Graph read. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGraphConnection } from '../../../src/connectors/msgraph/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Connector } from '../../../src/model/resources.js';
import { GraphSimulator } from '../../peers/msgraph/index.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { createTestPki, type TestPki } from '../../peers/tls.js';
import { CLIENT_ID, CLIENT_SECRET, graphConnector, TENANT } from './helpers.js';

let pki: TestPki;
let sim: GraphSimulator;
let secrets: SecretsDir;

const check = (connector: Connector) =>
  checkGraphConnection({
    connector,
    namespace: 'iga',
    secrets: secrets.resolver,
    signal: new AbortController().signal,
    log: silentLogger,
  });

beforeAll(async () => {
  pki = await createTestPki();
  sim = await GraphSimulator.start(pki, { tenantId: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  secrets = await createSecretsDir({
    'entra-app': { clientSecret: CLIENT_SECRET },
    'entra-wrong': { clientSecret: 'wrong-value' },
    'entra-ca': { 'ca.crt': pki.caCert },
  });
});
afterAll(async () => {
  await sim.close();
  await secrets.cleanup();
  await pki.cleanup();
});

describe('Microsoft Graph connection check', () => {
  it('gets a token and reads one user', async () => {
    expect(await check(graphConnector(sim))).toEqual({
      ok: true,
      message: `token from ${sim.url}/${TENANT}; GET /v1.0/users answered HTTP 200 OK`,
    });
  });

  it('says what to fix when Entra refuses the secret, without the secret', async () => {
    const c = graphConnector(sim);
    c.spec.msgraph = { ...c.spec.msgraph!, auth: { type: 'secret', secretRef: { name: 'entra-wrong' } } };
    const r = await check(c);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('AADSTS7000215');
    expect(r.message).toContain('update key clientSecret of secret "entra-wrong"');
    expect(r.message).not.toContain('wrong-value');
  });

  it('names the permissions when Graph answers 403', async () => {
    sim.fault({ path: /^\/v1\.0\/users/, status: 403, times: 1 });
    const r = await check(graphConnector(sim));
    expect(r).toMatchObject({ ok: false });
    expect(r.message).toContain('GET /v1.0/users answered HTTP 403 Forbidden: grant the app registration');
  });
});
