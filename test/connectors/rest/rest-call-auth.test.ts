// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${key} and ${token} are the schema's login placeholders
/**
 * restCall with every auth type of the connector, against the fixture's auth checks and a real OAuth2 server
 * (oauth2-mock-server). A dynamic token is fetched once for many invocations (the session is cached), renewed
 * once on a 401, and a session whose credentials were refused is rebuilt so that a rotated secret is read.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeRestActionSessions, restCall } from '../../../src/connectors/rest/actions/index.js';
import type { ActionContext } from '../../../src/connectors/types.js';
import type { RestAuth, RestConnector, RestDynamicToken } from '../../../src/generated/types.js';
import type { Task } from '../../../src/model/resources.js';
import { type CapturedLog, captureLogger } from '../../peers/log-capture.js';
import { type OAuth2Peer, startOAuth2Peer } from '../../peers/oauth2.js';
import { RestFixtureServer } from '../../peers/rest-fixture.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { connector, NAMESPACE } from './helpers.js';

const PASSWORD = 'Pa55:w&rd=with spaces';
const TOKEN = 'static-bearer-7f3a9c';
const API_KEY = 'k3y-abc-123456';
const CLIENT_SECRET = 'cl!ent s3cret&"quoted"\\';
const SECRET_VALUES = [PASSWORD, TOKEN, API_KEY, CLIENT_SECRET];

let api: RestFixtureServer;
let idp: OAuth2Peer;
let secrets: SecretsDir;
let capture: CapturedLog;

beforeAll(async () => {
  api = await RestFixtureServer.start();
  idp = await startOAuth2Peer({ clients: { provisio: CLIENT_SECRET } });
  secrets = await createSecretsDir({
    basic: { username: 'svc-provisio', password: PASSWORD },
    bearer: { token: TOKEN },
    key: { value: API_KEY },
    client: { client_id: 'provisio', client_secret: CLIENT_SECRET },
    rotating: { username: 'svc-provisio', password: 'old-password' },
  });
});
beforeEach(() => {
  capture = captureLogger('debug');
  idp.logins.length = 0;
  idp.expiresIn = undefined;
});
afterEach(async () => {
  api.reset();
  await closeRestActionSessions();
  for (const value of SECRET_VALUES) expect(capture.text()).not.toContain(value);
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

function ctxFor(auth: RestConnector['auth']): ActionContext {
  return {
    connector: connector({ baseUrl: `${api.url}/api/`, auth }),
    task,
    namespace: NAMESPACE,
    secrets: secrets.resolver,
    signal: new AbortController().signal,
    log: capture.log,
  };
}

const dynamic = (extra: Partial<RestDynamicToken> = {}, secret = 'client'): RestAuth => ({
  type: 'dynamicToken',
  secretRef: { name: secret },
  dynamicToken: {
    loginUrl: idp.tokenUrl,
    body: 'grant_type=client_credentials&client_id=${client_id}&client_secret=${client_secret}',
    tokenPath: 'access_token',
    expiresInPath: 'expires_in',
    ...extra,
  },
});

const patch = (ctx: ActionContext, id = '1') =>
  restCall(ctx, { method: 'PATCH', url: '/$id$', body: '{"n": "$n$"}' }, { id, n: 'x' });

beforeEach(() => {
  api.route('PATCH', '/api/users/:id', (_req, params) => ({ json: { updated: params.id } }));
});

describe('static auth types', () => {
  it('none: no Authorization header', async () => {
    const result = await patch(ctxFor({ type: 'none' }));
    expect(result.state).toBe('Completed');
    expect(api.requests[0].headers.authorization).toBeUndefined();
  });

  it('basic', async () => {
    api.auth = { type: 'basic', username: 'svc-provisio', password: PASSWORD };
    expect(await patch(ctxFor({ type: 'basic', secretRef: { name: 'basic' } }))).toEqual({
      state: 'Completed',
      statusCode: 200,
      response: { updated: '1' },
      exception: null,
    });
  });

  it('bearer', async () => {
    api.auth = { type: 'bearer', token: TOKEN };
    expect((await patch(ctxFor({ type: 'bearer', secretRef: { name: 'bearer' } }))).state).toBe('Completed');
  });

  it('header', async () => {
    api.auth = { type: 'header', name: 'X-Api-Key', value: API_KEY };
    const result = await patch(ctxFor({ type: 'header', headerName: 'X-Api-Key', secretRef: { name: 'key' } }));
    expect(result.state).toBe('Completed');
  });

  it('a refused password: Exception with a hint, one request, and a rotated secret is picked up next time', async () => {
    api.auth = { type: 'basic', username: 'svc-provisio', password: 'new-password' };
    const ctx = ctxFor({ type: 'basic', secretRef: { name: 'rotating' } });
    const refused = await patch(ctx);
    expect(refused).toEqual({
      state: 'Exception',
      statusCode: 401,
      response: { error: 'unauthorized' },
      exception:
        "PATCH /api/users/1 answered 401 Unauthorized (check the connector's spec.rest.auth and its secret): unauthorized",
    });
    expect(api.requests).toHaveLength(1);
    secrets.write('rotating', { password: 'new-password' });
    expect((await patch(ctx)).state).toBe('Completed');
  });

  it('a missing secret: Exception, nothing sent', async () => {
    const result = await patch(ctxFor({ type: 'bearer', secretRef: { name: 'nope' } }));
    expect(result).toEqual({
      state: 'Exception',
      response: null,
      exception: `PATCH /api/users/1 was not sent: secret "nope" not found (looked in the secrets folder ${secrets.dir}/nope/ and the PROVISIO_SECRET_NOPE_* variables)`,
    });
    expect(api.requests).toHaveLength(0);
  });
});

describe('dynamicToken', () => {
  beforeEach(() => {
    api.auth = { type: 'verify', verify: (req) => idp.verifyAuthorization(req.headers.authorization) };
  });

  it('one login for many invocations, concurrent and sequential', async () => {
    const ctx = ctxFor(dynamic());
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => patch(ctx, String(i))));
    expect(results.every((r) => r.state === 'Completed')).toBe(true);
    for (let i = 0; i < 5; i++) expect((await patch(ctx)).state).toBe('Completed');
    // A new context with an equal connector spec (as after a resync) reuses the session as well.
    expect((await patch(ctxFor(dynamic()))).state).toBe('Completed');
    expect(idp.logins).toHaveLength(1);
    expect(api.requests).toHaveLength(38);
  });

  it('a changed connector spec gets a new session and logs in again', async () => {
    expect((await patch(ctxFor(dynamic()))).state).toBe('Completed');
    expect((await patch(ctxFor(dynamic({ contentType: 'application/x-www-form-urlencoded' })))).state).toBe(
      'Completed',
    );
    expect(idp.logins).toHaveLength(2);
  });

  it('a 401 renews the token once and sends the PATCH again', async () => {
    const ctx = ctxFor(dynamic());
    expect((await patch(ctx)).state).toBe('Completed');
    idp.revokeAll();
    const result = await patch(ctx, '2');
    expect(result).toEqual({ state: 'Completed', statusCode: 200, response: { updated: '2' }, exception: null });
    expect(idp.logins).toHaveLength(2);
    expect(api.calls('/api/users/2').map((r) => r.body)).toEqual(['{"n": "x"}', '{"n": "x"}']);
  });

  it('a second 401 is an Exception; no further retries', async () => {
    api.auth = { type: 'verify', verify: () => false };
    const result = await patch(ctxFor(dynamic()));
    expect(result.state).toBe('Exception');
    expect(result.statusCode).toBe(401);
    expect(result.exception).toBe(
      "PATCH /api/users/1 answered 401 Unauthorized (check the connector's spec.rest.auth and its secret): unauthorized",
    );
    expect(idp.logins).toHaveLength(2);
    expect(api.requests).toHaveLength(2);
  });

  it('an expired token is renewed before the call', async () => {
    idp.expiresIn = 1; // renewed after half its lifetime
    const ctx = ctxFor(dynamic());
    expect((await patch(ctx)).state).toBe('Completed');
    await new Promise((r) => setTimeout(r, 600));
    expect((await patch(ctx)).state).toBe('Completed');
    expect(idp.logins).toHaveLength(2);
    expect(api.requests).toHaveLength(2);
  });

  it('a refused login is an Exception naming the login, without the client secret', async () => {
    secrets.write('bad-client', { client_id: 'provisio', client_secret: 'wrong-secret-value' });
    const result = await patch(ctxFor(dynamic({}, 'bad-client')));
    expect(result.state).toBe('Exception');
    expect(result.exception).toMatch(
      /^PATCH \/api\/users\/1 was not sent: login request POST http:\/\/127\.0\.0\.1:\d+\/token failed: HTTP 401 Unauthorized: /,
    );
    expect(result.exception).not.toContain('wrong-secret-value');
    expect(api.requests).toHaveLength(0);
  });
});
