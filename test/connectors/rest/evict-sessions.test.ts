// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${client_id} and ${client_secret} are the schema's login placeholders
/**
 * The session lifecycle of event calls: a session (secret values, TLS dispatcher, dynamic token) is cached across
 * invocations, so a rotated secret is not read again by itself; ConnectorType.evictSessions (which the
 * controller calls when a connector or one of its secrets changes) drops it, and the next call uses the new
 * credential. Against the fixture API and a real OAuth2 server.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeRestActionSessions } from '../../../src/connectors/rest/actions/index.js';
import { restConnector } from '../../../src/connectors/rest/index.js';
import type { ActionContext, ActionResult } from '../../../src/connectors/types.js';
import type { RestAuth } from '../../../src/generated/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Task } from '../../../src/model/resources.js';
import { type OAuth2Peer, startOAuth2Peer } from '../../peers/oauth2.js';
import { RestFixtureServer } from '../../peers/rest-fixture.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { connector, NAMESPACE } from './helpers.js';

let api: RestFixtureServer;
let idp: OAuth2Peer;
let secrets: SecretsDir;

beforeAll(async () => {
  api = await RestFixtureServer.start();
  idp = await startOAuth2Peer({ clients: { 'client-old': 'secret-old-1234', 'client-new': 'secret-new-5678' } });
  secrets = await createSecretsDir();
});
beforeEach(() => {
  idp.logins.length = 0;
  api.route('PATCH', '/api/users/:id', (_req, params) => ({ json: { updated: params.id } }));
});
afterEach(async () => {
  api.reset();
  await closeRestActionSessions();
});
afterAll(async () => {
  await api?.close();
  await idp?.stop();
  await secrets?.cleanup();
});

const task: Task = {
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'hr-users', namespace: NAMESPACE },
  spec: { connectorRef: { name: 'hr-api' }, usage: 'event', mappingsType: 'generic', event: { query: '/users' } },
};

function ctxFor(auth: RestAuth): ActionContext {
  return {
    connector: connector({ baseUrl: `${api.url}/api/`, auth }),
    task,
    namespace: NAMESPACE,
    secrets: secrets.resolver,
    signal: new AbortController().signal,
    log: silentLogger,
  };
}

const restCall = restConnector.actions?.restCall;
const patch = (ctx: ActionContext, id: string): Promise<ActionResult> => {
  if (!restCall) throw new Error('the REST type has no restCall action');
  return restCall(ctx, { method: 'PATCH', url: '/$id$', body: '{}' }, { id });
};
const evict = (name = 'hr-api'): void => {
  if (!restConnector.evictSessions) throw new Error('the REST type has no evictSessions');
  restConnector.evictSessions(NAMESPACE, name);
};
const authorizationOf = (id: string): unknown[] => api.calls(`/api/users/${id}`).map((r) => r.headers.authorization);
const completed = (id: string): ActionResult => ({
  state: 'Completed',
  statusCode: 200,
  response: { updated: id },
  exception: null,
});

describe('evictSessions', () => {
  it('bearer: after the secret changed and the sessions were evicted, the next call sends the new token', async () => {
    secrets.write('bearer-rotating', { token: 'token-old-1234' });
    // The API accepts both tokens, so that what each call sent is visible and no 401 evicts the session.
    api.auth = {
      type: 'verify',
      verify: (req) => ['Bearer token-old-1234', 'Bearer token-new-5678'].includes(String(req.headers.authorization)),
    };
    const ctx = ctxFor({ type: 'bearer', secretRef: { name: 'bearer-rotating' } });
    expect(await patch(ctx, '1')).toEqual(completed('1'));
    secrets.write('bearer-rotating', { token: 'token-new-5678' });
    // Without an eviction the cached session keeps the value it read.
    expect(await patch(ctx, '2')).toEqual(completed('2'));
    evict();
    expect(await patch(ctx, '3')).toEqual(completed('3'));
    expect([authorizationOf('1'), authorizationOf('2'), authorizationOf('3')]).toEqual([
      ['Bearer token-old-1234'],
      ['Bearer token-old-1234'],
      ['Bearer token-new-5678'],
    ]);
  });

  it('dynamicToken: the cached token is dropped; the next call logs in with the new client secret', async () => {
    secrets.write('client-rotating', { client_id: 'client-old', client_secret: 'secret-old-1234' });
    api.auth = { type: 'verify', verify: (req) => idp.verifyAuthorization(req.headers.authorization) };
    const ctx = ctxFor({
      type: 'dynamicToken',
      secretRef: { name: 'client-rotating' },
      dynamicToken: {
        loginUrl: idp.tokenUrl,
        body: 'grant_type=client_credentials&client_id=${client_id}&client_secret=${client_secret}',
        tokenPath: 'access_token',
        expiresInPath: 'expires_in',
      },
    });
    expect(await patch(ctx, '1')).toEqual(completed('1'));
    secrets.write('client-rotating', { client_id: 'client-new', client_secret: 'secret-new-5678' });
    expect(await patch(ctx, '2')).toEqual(completed('2'));
    expect(idp.logins).toHaveLength(1);
    evict();
    expect(await patch(ctx, '3')).toEqual(completed('3'));
    expect(idp.logins.map((l) => l.body.client_id)).toEqual(['client-old', 'client-new']);
    const [first, second] = idp.logins.map((l) => `Bearer ${l.token}`);
    expect(first).not.toBe(second);
    expect([authorizationOf('1'), authorizationOf('2'), authorizationOf('3')]).toEqual([[first], [first], [second]]);
  });

  it('a call in flight finishes on the evicted session; the next one opens a new session', async () => {
    secrets.write('bearer-inflight', { token: 'token-before-1234' });
    const ctx = ctxFor({ type: 'bearer', secretRef: { name: 'bearer-inflight' } });
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    api.route('PATCH', '/api/users/slow', async () => {
      arrived();
      await answered;
      return { json: { updated: 'slow' } };
    });
    const inFlight = patch(ctx, 'slow');
    await requestArrived;
    secrets.write('bearer-inflight', { token: 'token-after-5678' });
    evict();
    answer();
    expect(await inFlight).toEqual(completed('slow'));
    expect(await patch(ctx, '4')).toEqual(completed('4'));
    expect(authorizationOf('slow')).toEqual(['Bearer token-before-1234']);
    expect(authorizationOf('4')).toEqual(['Bearer token-after-5678']);
  });

  it('evicting a connector without a session, or another connector, changes nothing', async () => {
    secrets.write('bearer-other', { token: 'token-kept-1234' });
    const ctx = ctxFor({ type: 'bearer', secretRef: { name: 'bearer-other' } });
    evict();
    expect(await patch(ctx, '1')).toEqual(completed('1'));
    secrets.write('bearer-other', { token: 'token-unread-5678' });
    evict('another-connector');
    expect(await patch(ctx, '2')).toEqual(completed('2'));
    expect(authorizationOf('2')).toEqual(['Bearer token-kept-1234']);
  });
});
