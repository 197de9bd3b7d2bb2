/**
 * `provisio test-connection` on SCIM connectors, as a child process from a resource directory and a secrets
 * directory: "test connection" (ServiceProviderConfig, with what the server supports) and "test
 * authentication" (GET /Users?count=1), over https with the connector's own CA; a 401 names the fix.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitRepo, gitRepo, tempDir } from '../../controller/resources.js';
import { ScimServer } from '../../peers/scim-server.js';
import { createTestPki, type TestPki } from '../../peers/tls.js';
import { cli } from '../../server/child.js';

const PASSWORD = 'sc1m-pa55word';
let scim: ScimServer;
let pki: TestPki;
let repo: GitRepo;
let secrets: { dir: string; cleanup(): void };

const connectorYaml = (name: string, port: number, tls: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: ${name}, namespace: iga}
spec:
  type: scim
  scim:
    host: 127.0.0.1
    port: ${port}
    basePath: /scim/v2
    tls: ${tls}
    auth: {type: basic, secretRef: {name: scim-credentials}}
`;

function writeSecret(name: string, data: Record<string, string>): void {
  mkdirSync(join(secrets.dir, name), { recursive: true });
  for (const [k, v] of Object.entries(data)) writeFileSync(join(secrets.dir, name, k), v);
}

beforeAll(async () => {
  pki = await createTestPki({ ips: ['127.0.0.1'] });
  scim = await ScimServer.start({
    auth: { type: 'basic', username: 'svc-provisio', password: PASSWORD },
    tls: { cert: pki.serverCert, key: pki.serverKey },
  });
  scim.user({ id: 'u1', userName: 'ada' });
  repo = gitRepo();
  repo.write('idp.yaml', connectorYaml('idp', scim.port, '{caSecretRef: {name: idp-ca}}'));
  repo.write('no-ca.yaml', connectorYaml('no-ca', scim.port, '{}'));
  repo.commit();
  secrets = tempDir();
  writeSecret('idp-ca', { 'ca.crt': pki.caCert });
  writeSecret('scim-credentials', { username: 'svc-provisio', password: PASSWORD });
});
afterAll(async () => {
  await scim.close();
  await pki.cleanup();
  repo.cleanup();
  secrets.cleanup();
});

describe('test-connection on a SCIM connector', () => {
  it('reaches ServiceProviderConfig, reports what the server supports, then authenticates', async () => {
    writeSecret('scim-credentials', { username: 'svc-provisio', password: PASSWORD });
    const r = await cli(['test-connection', 'iga/idp', '--dir', repo.dir, '--secrets-dir', secrets.dir]);
    expect(r).toMatchObject({
      code: 0,
      stderr: '',
      stdout:
        'Connector iga/idp: ok: GET /ServiceProviderConfig answered HTTP 200 OK, supports filter (max 1000 results), paging, patch, bulk; not etag; GET /Users answered HTTP 200 OK\n',
    });
  });

  it('says the service account is wrong on a 401, never printing the password', async () => {
    writeSecret('scim-credentials', { username: 'svc-provisio', password: 'wrong-pa55word' });
    const r = await cli(['test-connection', 'iga/idp', '--dir', repo.dir, '--secrets-dir', secrets.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      'Connector iga/idp: failed: GET /ServiceProviderConfig answered HTTP 401 Unauthorized: the SCIM service account was refused; check spec.scim.auth and its secret\n',
    );
    expect(r.stdout + r.stderr).not.toContain('wrong-pa55word');
  });

  it('refuses a certificate from a CA the connector does not name', async () => {
    const r = await cli(['test-connection', 'iga/no-ca', '--dir', repo.dir, '--secrets-dir', secrets.dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `Connector iga/no-ca: failed: GET /scim/v2/ServiceProviderConfig on 127.0.0.1:${scim.port} failed: TLS error: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); if the server's certificate is issued by a private CA, add that CA with spec.scim.tls.caSecretRef\n`,
    );
  });
});
