/**
 * A rotated secret reaches event calls without a restart: the controller's connection check notices that a
 * secret its connector references changed, drops the connector type's sessions, and the next invocation
 * sends the new credential. And the check's answer lands in the connector's status.connection.
 * Real runtime, real secrets directory, the REST fixture server as the upstream.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import type { ConnectorStatus } from '../../src/model/resources.js';
import { TokenAuth } from '../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../src/server/serve.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { postInvoke } from './invoke-client.js';

const TOKEN = 'rotation-test-token';
let upstream: RestFixtureServer;
let runtime: ServedRuntime;
let dir: string;

const writeToken = (value: string) => {
  mkdirSync(join(dir, 'secrets', 'hr-api-token'), { recursive: true });
  writeFileSync(join(dir, 'secrets', 'hr-api-token', 'token'), value);
};

beforeAll(async () => {
  upstream = await RestFixtureServer.start();
  upstream.route('GET', '/api', () => ({ json: { up: true } }));
  upstream.route('POST', '/api/users', () => ({ status: 201, json: { id: 'U1' } }));
  dir = mkdtempSync(join(tmpdir(), 'provisio-rotation-'));
  writeToken('token-one');
  writeFileSync(
    join(dir, 'hr.yaml'),
    `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api, namespace: iga}
spec:
  type: rest
  rest:
    baseUrl: ${upstream.url}/api
    auth: {type: bearer, secretRef: {name: hr-api-token}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-users, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: event
  event: {query: /users}
`,
  );
  runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    secretsDir: join(dir, 'secrets'),
    log: silentLogger,
    listen: '127.0.0.1:0',
    auth: new TokenAuth([TOKEN]),
  });
});
afterAll(async () => {
  await runtime.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

const createUser = () =>
  postInvoke(`http://127.0.0.1:${runtime.address!.port}`, { namespace: 'iga', name: 'hr-users' }, TOKEN, {
    activity: 'restCall',
    input: { method: 'POST', url: '', body: '{"name": "Ada"}' },
  });
const sentTokens = () => upstream.calls('/api/users').map((r) => r.headers.authorization);

describe('a rotated connector secret', () => {
  it('is used by the next event call once the connection check saw it change', async () => {
    await runtime.controller.testConnection('iga/hr-api');
    expect((await createUser()).body).toMatchObject({ state: 'Completed', statusCode: 201 });
    writeToken('token-two');
    // Until the check runs again the session keeps what it read (no secret read per call).
    expect((await createUser()).body).toMatchObject({ state: 'Completed' });
    await runtime.controller.connectors.refreshAll();
    expect((await createUser()).body).toMatchObject({ state: 'Completed' });
    expect(sentTokens()).toEqual(['Bearer token-one', 'Bearer token-one', 'Bearer token-two']);
    const connection = runtime.statuses.read<ConnectorStatus>('Connector', 'iga/hr-api')?.status.connection;
    expect(connection).toMatchObject({ ok: true, message: 'GET /api answered HTTP 200 OK' });
    expect(JSON.stringify(runtime.statuses.read('Connector', 'iga/hr-api'))).not.toContain('token-');
  });
});
