/**
 * A scheduled run against a source that echoes the credentials it was sent in its records (a bearer token, the
 * Basic value, a dynamic token obtained at run time, a client secret): neither the run's artifacts nor the cards
 * keep them (ADR 0007), and the records' JSON stays intact. Identifiers such as the Basic user name stay: they are
 * often real data too (here the service account is one of the accounts read).
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runTask } from '../../src/engine/run-task.js';
import type { Connector, Task } from '../../src/model/resources.js';
import { LocalSecretResolver } from '../../src/secrets/resolver.js';
import { type RecordedRequest, RestFixtureServer } from '../peers/rest-fixture.js';
import { type EngineFixture, engineFixture } from './helpers.js';

const BEARER = 'static-bearer-T0KEN-value';
const PASSWORD = 'basic-pa55word-value';
const CLIENT_SECRET = 'client-s3cret-value';
const DYNAMIC = 'dynamic-t0ken-issued-at-run-time';
const BASIC = Buffer.from(`svc-reader:${PASSWORD}`).toString('base64');

let server: RestFixtureServer;
let fx: EngineFixture;
let runNo = 0;

const connector = (auth: NonNullable<Connector['spec']['rest']>['auth']): Connector => ({
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Connector',
  metadata: { name: 'hr-api', namespace: 'iga' },
  spec: { type: 'rest', rest: { baseUrl: server.url, auth, pagination: { type: 'none' } } },
});

const task: Task = {
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'hr-me', namespace: 'iga' },
  spec: {
    connectorRef: { name: 'hr-api' },
    usage: 'scheduled',
    mappingsType: 'generic',
    schedule: { interval: '30m' },
    source: { rest: { query: '/accounts' } },
    mappings: {
      generic: {
        template: 'account',
        attributes: [
          { external: 'id', local: 'account_id', unique: true },
          { external: 'owner', local: 'owner' },
          { external: 'debug.authorization', local: 'seen_authorization' },
          { external: 'debug.login', local: 'seen_login' },
        ],
      },
    },
  },
};

/** An API with a debug echo: every record carries the Authorization header the request came with. */
const echoing = (req: RecordedRequest) => ({
  json: [
    { id: 'a1', owner: 'svc-reader', debug: { authorization: req.headers.authorization, login: null } },
    { id: 'a2', owner: 'ada', debug: { authorization: 'none', login: `client_secret=${CLIENT_SECRET}` } },
  ],
});

async function runWith(auth: NonNullable<Connector['spec']['rest']>['auth']) {
  const r = await runTask(fx.deps, {
    task,
    connector: connector(auth),
    runId: `run-${++runNo}`,
    trigger: 'manual',
    plannedTime: new Date(),
    signal: new AbortController().signal,
  });
  expect(r.extract?.status).toBe('Succeeded');
  const artifact = readFileSync(r.artifacts?.generic as string, 'utf8');
  const cards: Array<Record<string, unknown>> = [];
  for await (const c of fx.target.list('account')) cards.push(c);
  return { artifact, cards: new Map(cards.map((c) => [c.account_id, c])) };
}

beforeAll(async () => {
  server = await RestFixtureServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  server.route('GET', '/accounts', echoing);
  server.publicPaths.add('/login');
  server.route('POST', '/login', () => ({ json: { access_token: DYNAMIC } }));
  fx = engineFixture();
  fx.deps.secrets = new LocalSecretResolver(undefined, {
    PROVISIO_SECRET_BEARER_TOKEN: BEARER,
    PROVISIO_SECRET_BASIC_USERNAME: 'svc-reader',
    PROVISIO_SECRET_BASIC_PASSWORD: PASSWORD,
    PROVISIO_SECRET_CLIENT_CLIENT_ID: 'provisio',
    PROVISIO_SECRET_CLIENT_CLIENT_SECRET: CLIENT_SECRET,
  });
});
afterEach(async () => {
  await fx.close();
});

describe('credentials echoed by a source in a scheduled run', () => {
  it.each([
    ['bearer', { type: 'bearer', secretRef: { name: 'bearer' } }, 'Bearer [redacted]', [BEARER]],
    ['basic', { type: 'basic', secretRef: { name: 'basic' } }, 'Basic [redacted]', [PASSWORD, BASIC]],
    [
      'dynamicToken',
      {
        type: 'dynamicToken',
        secretRef: { name: 'client' },
        dynamicToken: {
          loginUrl: '', // set below: the fixture's URL
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the schema's placeholders
          body: 'grant_type=client_credentials&client_id=${client_id}&client_secret=${client_secret}',
          tokenPath: 'access_token',
        },
      },
      'Bearer [redacted]',
      [CLIENT_SECRET, DYNAMIC],
    ],
  ] as const)('%s: artifacts and cards keep [redacted], never the credential', async (_name, auth, seen, secrets) => {
    const a = structuredClone(auth) as NonNullable<Connector['spec']['rest']>['auth'];
    if (a?.type === 'dynamicToken' && a.dynamicToken) a.dynamicToken.loginUrl = `${server.url}/login`;
    const { artifact, cards } = await runWith(a);
    for (const s of secrets) {
      expect(artifact).not.toContain(s);
      expect(JSON.stringify([...cards.values()])).not.toContain(s);
    }
    expect(cards.get('a1')).toMatchObject({ owner: 'svc-reader', seen_authorization: seen });
    expect(JSON.parse(artifact)[0].debug.authorization).toBe(seen);
    if (a?.type === 'dynamicToken') {
      expect(cards.get('a2')).toMatchObject({ seen_login: 'client_secret=[redacted]' });
    }
  });
});
