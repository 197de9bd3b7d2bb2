/**
 * Secrets stay secret in successful answers too (ADR 0007): an upstream that echoes the credential it was sent
 * in a 2xx body (a bearer token, the Basic value, a dynamic token obtained at run time, the client secret of its
 * login) does not get it back to the workflow, the idempotency store or the logs. The endpoint end to end, on a
 * REST and a SCIM connector, against an upstream of the test's own that echoes what it received.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretResolver } from '../../src/secrets/resolver.js';
import { TokenAuth } from '../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../src/server/serve.js';
import { captureLogger } from '../peers/log-capture.js';
import { type RecordedRequest, RestFixtureServer } from '../peers/rest-fixture.js';
import { postInvoke } from './invoke-client.js';

const TOKEN = 'scrub-invoke-token';
const BEARER = 'static-bearer-T0KEN-value';
const PASSWORD = 'basic-pa55word-value';
const CLIENT_SECRET = 'client-s3cret-value';
const DYNAMIC = 'dynamic-t0ken-issued-at-run-time';
const BASIC = Buffer.from(`svc-provisio:${PASSWORD}`).toString('base64');
const SECRETS = [BEARER, PASSWORD, CLIENT_SECRET, DYNAMIC, BASIC];

let upstream: RestFixtureServer;
let runtime: ServedRuntime;
let dir: string;
const logs = captureLogger('debug');

const connector = (name: string, block: string, task = '') => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: ${name}, namespace: iga}
spec:
${block}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: ${name}-calls, namespace: iga}
spec:
  connectorRef: {name: ${name}}
  usage: event
  event: {timeout: 5s}
${task}---
`;

const resources = (url: string) =>
  connector(
    'bearer-api',
    `  type: rest
  rest: {baseUrl: ${url}/bearer, auth: {type: bearer, secretRef: {name: bearer-secret}}, pagination: {type: none}}`,
  ) +
  connector(
    'basic-api',
    `  type: rest
  rest: {baseUrl: ${url}/basic, auth: {type: basic, secretRef: {name: basic-secret}}, pagination: {type: none}}`,
  ) +
  connector(
    'dynamic-api',
    `  type: rest
  rest:
    baseUrl: ${url}/dynamic
    pagination: {type: none}
    auth:
      type: dynamicToken
      secretRef: {name: client-secret}
      dynamicToken:
        loginUrl: ${url}/login
        body: grant_type=client_credentials&client_id=\${client_id}&client_secret=\${client_secret}
        tokenPath: access_token`,
  ) +
  connector(
    'scim-idp',
    `  type: scim
  scim:
    host: 127.0.0.1
    port: ${new URL(url).port}
    basePath: /scim/v2
    tls: {enabled: false}
    auth: {type: bearer, secretRef: {name: bearer-secret}}`,
    `  mappingsType: identity
  mappings:
    identity:
      template: account
      attributes: [{external: userName, local: user_name, unique: true}]
`,
  );

/** What the upstream received, echoed in a 200 body, as an API with a debug echo would. */
const echo = (req: RecordedRequest) => ({
  status: 200,
  json: {
    id: 'u1',
    userName: 'ada',
    debug: { authorization: req.headers.authorization, [`seen ${req.headers.authorization}`]: true },
    list: [req.headers.authorization, 'plain'],
  },
});

const invoke = (task: string, body: unknown, headers: Record<string, string> = {}) =>
  postInvoke(`http://127.0.0.1:${runtime.address!.port}`, { namespace: 'iga', name: task }, TOKEN, body, headers);

const expectNoSecret = (text: string): void => {
  for (const s of SECRETS) expect(text).not.toContain(s);
};

beforeAll(async () => {
  upstream = await RestFixtureServer.start();
  dir = mkdtempSync(join(tmpdir(), 'provisio-scrub-'));
  writeFileSync(join(dir, 'all.yaml'), resources(upstream.url));
  runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    log: logs.log,
    secrets: new LocalSecretResolver(undefined, {
      PROVISIO_SECRET_BEARER_SECRET_TOKEN: BEARER,
      PROVISIO_SECRET_BASIC_SECRET_USERNAME: 'svc-provisio',
      PROVISIO_SECRET_BASIC_SECRET_PASSWORD: PASSWORD,
      PROVISIO_SECRET_CLIENT_SECRET_CLIENT_ID: 'provisio',
      PROVISIO_SECRET_CLIENT_SECRET_CLIENT_SECRET: CLIENT_SECRET,
    }),
    listen: '127.0.0.1:0',
    auth: new TokenAuth([TOKEN]),
    checkConnections: false,
  });
});
afterAll(async () => {
  await runtime.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  upstream.reset();
  upstream.publicPaths.add('/login');
  // A login server that echoes the login body (with the client secret) next to the token it issues.
  upstream.route('POST', '/login', (req) => ({ json: { access_token: DYNAMIC, echoed: req.body } }));
  for (const path of ['/bearer/me', '/basic/me', '/dynamic/me', '/scim/v2/Users/u1']) upstream.route('GET', path, echo);
  // A SCIM server that names the new user after the Authorization header it got.
  upstream.route('POST', '/scim/v2/Users', (req) => ({
    status: 201,
    json: { id: 'u9', userName: req.headers.authorization },
  }));
  logs.clear();
});

describe('secrets echoed in a 2xx body', () => {
  it.each([
    ['bearer-api-calls', `Bearer ${BEARER}`],
    ['basic-api-calls', `Basic ${BASIC}`],
    ['dynamic-api-calls', `Bearer ${DYNAMIC}`],
  ])('%s: the Completed answer carries [redacted] instead of the credential', async (task, sent) => {
    const answer = await invoke(task, { activity: 'restCall', input: { method: 'GET', url: '/me' } });
    expect(upstream.requests.find((r) => r.url.endsWith('/me'))?.headers.authorization).toBe(sent);
    expect(answer.status).toBe(200);
    const scheme = sent.split(' ')[0];
    expect(answer.body).toMatchObject({
      state: 'Completed',
      statusCode: 200,
      response: {
        id: 'u1',
        userName: 'ada',
        debug: { authorization: `${scheme} [redacted]`, [`seen ${scheme} [redacted]`]: true },
        list: [`${scheme} [redacted]`, 'plain'],
      },
    });
    expectNoSecret(answer.text);
  });

  it('scrubs the client secret a login echoed, should the API hand it on', async () => {
    upstream.route('GET', '/dynamic/me', () => ({ json: { login: `client_secret=${CLIENT_SECRET}` } }));
    const answer = await invoke('dynamic-api-calls', { activity: 'restCall', input: { method: 'GET', url: '/me' } });
    expect(answer.body.response).toEqual({ login: 'client_secret=[redacted]' });
  });

  it('SCIM activities: restCall and createUser answers are scrubbed too', async () => {
    const call = await invoke('scim-idp-calls', { activity: 'restCall', input: { method: 'GET', url: '/Users/u1' } });
    expect(call.body).toMatchObject({
      state: 'Completed',
      response: { debug: { authorization: 'Bearer [redacted]' } },
    });
    const created = await invoke('scim-idp-calls', {
      activity: 'createUser',
      input: {},
      data: { user_name: 'ada' },
    });
    expectNoSecret(call.text);
    expectNoSecret(created.text);
    expect(created.body).toMatchObject({
      state: 'Completed',
      statusCode: 201,
      response: { id: 'u9', userName: 'Bearer [redacted]' },
    });
  });

  it('stores the scrubbed answer for Idempotency-Key retries, and logs no secret', async () => {
    const first = await invoke(
      'bearer-api-calls',
      { activity: 'restCall', input: { method: 'GET', url: '/me' } },
      { 'idempotency-key': 'scrub-1' },
    );
    const replay = await invoke(
      'bearer-api-calls',
      { activity: 'restCall', input: { method: 'GET', url: '/me' } },
      { 'idempotency-key': 'scrub-1' },
    );
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    const db = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    const rows = db.prepare('SELECT result FROM idempotent_calls').all() as Array<{ result: string }>;
    db.close();
    expect(rows.some((r) => r.result.includes('[redacted]'))).toBe(true);
    for (const r of rows) expectNoSecret(r.result);
    expectNoSecret(logs.text());
  });
});

describe('the bearer scheme of the invoke endpoint (RFC 7235: case-insensitive)', () => {
  it('accepts "bearer" in lower case and a trailing space after the token', async () => {
    for (const authorization of [`bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer ${TOKEN} `]) {
      const res = await fetch(
        `http://127.0.0.1:${runtime.address!.port}/api/v1/namespaces/iga/tasks/bearer-api-calls/invoke`,
        {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ activity: 'restCall', input: { method: 'GET', url: '/me' } }),
        },
      );
      expect(res.status).toBe(200);
      expect(((await res.json()) as { state: string }).state).toBe('Completed');
    }
    const wrong = await fetch(
      `http://127.0.0.1:${runtime.address!.port}/api/v1/namespaces/iga/tasks/bearer-api-calls/invoke`,
      {
        method: 'POST',
        headers: { authorization: `bearer ${TOKEN}x`, 'content-type': 'application/json' },
        body: '{}',
      },
    );
    expect(wrong.status).toBe(401);
  });
});
