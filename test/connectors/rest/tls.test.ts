/** HTTPS with a private CA: trusted through spec.rest.tls.caSecretRef, refused (quickly, clearly) without it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRestConnection, extractRest } from '../../../src/connectors/rest/index.js';
import { RestFixtureServer } from '../../peers/rest-fixture.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { createTestPki, type TestPki } from '../../peers/tls.js';
import { collect, collectFailure, context, FAST, ids } from './helpers.js';

let pki: TestPki;
let otherPki: TestPki;
let api: RestFixtureServer;
let secrets: SecretsDir;

beforeAll(async () => {
  pki = await createTestPki();
  otherPki = await createTestPki();
  api = await RestFixtureServer.start({ tls: { key: pki.serverKey, cert: pki.serverCert } });
  api.collection('/employees', [{ id: 1 }, { id: 2 }], { paging: 'none' });
  secrets = await createSecretsDir({
    'hr-ca': { 'ca.crt': pki.caCert },
    'hr-ca-custom-key': { 'root.pem': pki.caCert },
    'other-ca': { 'ca.crt': otherPki.caCert },
  });
});
afterAll(async () => {
  await api?.close();
  await secrets?.cleanup();
  await pki?.cleanup();
  await otherPki?.cleanup();
});

const TLS_FAILURE =
  /^GET \/employees on 127\.0\.0\.1:\d+ failed: TLS error: .+ \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\); if the server's certificate is issued by a private CA, add that CA with spec.rest.tls.caSecretRef$/;

describe('TLS with a private CA', () => {
  it('extracts over https when the CA comes from caSecretRef (default key ca.crt)', async () => {
    const ctx = context(
      { baseUrl: api.url, tls: { caSecretRef: { name: 'hr-ca' } } },
      { query: '/employees' },
      { secrets: secrets.resolver },
    );
    expect(ids(await collect(extractRest(ctx)))).toEqual([1, 2]);
  });

  it('reads the CA from a custom key', async () => {
    const ctx = context(
      { baseUrl: api.url, tls: { caSecretRef: { name: 'hr-ca-custom-key', key: 'root.pem' } } },
      { query: '/employees' },
      { secrets: secrets.resolver },
    );
    expect(ids(await collect(extractRest(ctx)))).toEqual([1, 2]);
  });

  it('fails at once, without retrying, when the CA is not trusted', async () => {
    const before = api.calls().length;
    const started = Date.now();
    const { error } = await collectFailure(extractRest(context({ baseUrl: api.url }, { query: '/employees' }), FAST));
    expect(error.status).toBe('Failed');
    expect(error.message).toMatch(TLS_FAILURE);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(api.calls()).toHaveLength(before);
  });

  it('fails when a different CA is configured', async () => {
    const ctx = context(
      { baseUrl: api.url, tls: { caSecretRef: { name: 'other-ca' } } },
      { query: '/employees' },
      { secrets: secrets.resolver },
    );
    const { error } = await collectFailure(extractRest(ctx, FAST));
    expect(error.message).toMatch(TLS_FAILURE);
  });

  it('verifies the certificate against tls.serverName when it is set', async () => {
    const rest = (serverName: string) => ({ baseUrl: api.url, tls: { caSecretRef: { name: 'hr-ca' }, serverName } });
    const good = context(rest('localhost'), { query: '/employees' }, { secrets: secrets.resolver });
    expect(ids(await collect(extractRest(good)))).toEqual([1, 2]);
    const wrong = context(rest('hr.example.com'), { query: '/employees' }, { secrets: secrets.resolver });
    const { error } = await collectFailure(extractRest(wrong, FAST));
    expect(error.message).toMatch(
      /^GET \/employees on 127\.0\.0\.1:\d+ failed: TLS error: .+\(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    );
  });

  it('reports the TLS problem from checkConnection', async () => {
    const check = await checkRestConnection(context({ baseUrl: `${api.url}/employees` }, { query: '/' }));
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/^GET \/employees on 127\.0\.0\.1:\d+ failed: TLS error: /);
  });
});
