/**
 * The Graph activity tests' world: the Graph simulator over HTTPS with the real MSAL, a controller runtime
 * serving the invoke endpoint over HTTP with Graph event tasks from YAML (tasks given per test file), the
 * app's secret, its CA and a default first-login password as mounted Secrets, and a captured log.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenAuth } from '../../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../../src/server/serve.js';
import { postInvoke } from '../../invocations/invoke-client.js';
import { captureLogger } from '../../peers/log-capture.js';
import { GraphSimulator } from '../../peers/msgraph/index.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { createTestPki, type TestPki } from '../../peers/tls.js';
import { CLIENT_ID, CLIENT_SECRET, TENANT } from './helpers.js';

export const INVOKE_TOKEN = 'invoke-token-graph-4c2';
export const DEFAULT_PASSWORD = 'Welcome-2026!first';

/** The connector every task of these tests uses: `entra-id` in namespace `iga`. */
export const connectorYaml = (sim: GraphSimulator): string => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: entra-id, namespace: iga}
spec:
  type: msgraph
  msgraph:
    tenantId: ${TENANT}
    clientId: ${CLIENT_ID}
    loginUrl: ${sim.url}
    graphUrl: ${sim.url}
    tls: {caSecretRef: {name: entra-ca}}
    auth: {type: secret, secretRef: {name: entra-app}}
`;

/** Identity and access mappings as the seeds' example task has them (object id unique). */
export const ACCOUNT_MAPPINGS = `
    identity:
      template: iga_account
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: displayName, local: display_name}
        - {external: mailNickname, local: mail_nickname}
        - {external: userPrincipalName, local: upn}
        - {external: givenName, local: first_name}
        - {external: surname, local: last_name}
        - {external: department, local: department}
        - {external: accountEnabled, local: enabled}
        - {external: photo, local: photo}
    access:
      template: iga_entitlement
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: displayName, local: display_name}
        - {external: mailNickname, local: mail_nickname}
        - {external: mailEnabled, local: mail_enabled}
        - {external: securityEnabled, local: security_enabled}
        - {external: description, local: description}`;

/** An event task on entra-id: `event` and `mappings` are YAML blocks indented under spec. */
export const eventTaskYaml = (name: string, mappingsType: string, event: string, mappings: string): string => `---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: ${name}, namespace: iga}
spec:
  connectorRef: {name: entra-id}
  usage: event
  mappingsType: ${mappingsType}
  event:${event}
  mappings:${mappings}
`;

export interface GraphEventWorld {
  sim: GraphSimulator;
  secrets: SecretsDir;
  runtime: ServedRuntime;
  base: string;
  /** The runtime's state directory (cards.db of the local target, state.db). */
  stateDir: string;
  logs: ReturnType<typeof captureLogger>;
  invoke(
    task: string,
    activity: string,
    data: Record<string, unknown>,
    input?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): ReturnType<typeof postInvoke>;
  close(): Promise<void>;
}

/** Starts the world; `tasks` is the YAML of the event tasks (eventTaskYaml), after the connector. */
export async function startGraphEventWorld(tasks: (sim: GraphSimulator) => string): Promise<GraphEventWorld> {
  const pki: TestPki = await createTestPki();
  const sim = await GraphSimulator.start(pki, { tenantId: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const secrets = await createSecretsDir({
    'entra-app': { clientSecret: CLIENT_SECRET },
    'entra-ca': { 'ca.crt': pki.caCert },
    'first-login': { password: DEFAULT_PASSWORD },
  });
  const dir = mkdtempSync(join(tmpdir(), 'provisio-graph-events-'));
  writeFileSync(join(dir, 'entra.yaml'), connectorYaml(sim) + tasks(sim));
  const logs = captureLogger('debug');
  const runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    log: logs.log,
    secrets: secrets.resolver,
    listen: '127.0.0.1:0',
    auth: new TokenAuth([INVOKE_TOKEN]),
    checkConnections: false,
  });
  const base = `http://127.0.0.1:${runtime.address!.port}`;
  return {
    sim,
    secrets,
    runtime,
    base,
    stateDir: join(dir, 'state'),
    logs,
    invoke: (task, activity, data, input = {}, headers = {}) =>
      postInvoke(base, { namespace: 'iga', name: task }, INVOKE_TOKEN, { activity, input, data }, headers),
    async close() {
      await runtime.close();
      await sim.close();
      await secrets.cleanup();
      await pki.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
