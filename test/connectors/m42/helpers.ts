/** The remote instance of the M42 connector tests: the simulated REST API over HTTPS with a throwaway CA. */
import { type M42Api, startM42Api } from '../../peers/m42-api/index.js';
import { createTestPki, type TestPki } from '../../peers/tls.js';

export const REMOTE_PASSWORD = 'partner-Api-pw-31c9';

export interface Remote {
  api: M42Api;
  pki: TestPki;
  /** Environment of the LocalSecretResolver: the API user and the CA. */
  secretsEnv: Record<string, string>;
  stop(): Promise<void>;
}

export async function startRemote(): Promise<Remote> {
  const pki = await createTestPki();
  const api = await startM42Api({
    tls: { cert: pki.serverCert, key: pki.serverKey },
    users: [
      { login: 'svc-partner', password: REMOTE_PASSWORD },
      { login: 'reader', password: 'reader-pw-1', canWrite: [] },
    ],
    templates: [
      {
        code: 'incident',
        folders: [{ code: 'escalated_from_acme' }, { code: 'internal' }],
        attributes: {
          efecte_id: { type: 'string', unique: true },
          acme_incident_id: { type: 'string' },
          subject: { type: 'string' },
          description: { type: 'string' },
          priority: {
            type: 'static-value',
            values: [
              { code: 'p1', value: '1 - Critical' },
              { code: 'p3', value: '3 - Normal' },
            ],
          },
          status: {
            type: 'static-value',
            values: [
              { code: 's2', value: '02 - Solving' },
              { code: 's7', value: '07 - Resolved' },
            ],
          },
          origin_system: { type: 'string' },
          solution: { type: 'string' },
          resolved_date: { type: 'datetime' },
          due_date: { type: 'date' },
          owner: { type: 'reference', target: ['person'] },
          tags: { type: 'string', multiValue: true },
        },
      },
      {
        code: 'person',
        folders: [{ code: 'people' }],
        attributes: { person_id: { type: 'string', unique: true }, full_name: { type: 'string' } },
      },
    ],
  });
  return {
    api,
    pki,
    secretsEnv: {
      PROVISIO_SECRET_PARTNER_API_USER_USERNAME: 'svc-partner',
      PROVISIO_SECRET_PARTNER_API_USER_PASSWORD: REMOTE_PASSWORD,
      PROVISIO_SECRET_PARTNER_CA_CA: pki.caCert,
    },
    async stop() {
      await api.stop();
      await pki.cleanup();
    },
  };
}

/** The Connector YAML of the remote instance. */
export const partnerConnector = (url: string, secret = 'partner-api-user') => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: partner-itsm, namespace: iga}
spec:
  type: m42
  m42:
    baseUrl: ${url}
    secretRef: {name: ${secret}}
    tls: {caSecretRef: {name: partner-ca, key: ca}}
    timeout: 10s
`;
