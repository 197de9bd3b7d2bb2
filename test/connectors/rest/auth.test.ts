// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${key} and ${token} are the schema's login placeholders
/**
 * Authentication: static types against the fixture server's checks, dynamicToken against
 * oauth2-mock-server with an API that accepts only tokens that server issued. No secret value may
 * appear in an error message or in the log.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkRestConnection, extractRest } from '../../../src/connectors/rest/index.js';
import type { RestConnector } from '../../../src/generated/types.js';
import { type CapturedLog, captureLogger } from '../../peers/log-capture.js';
import { type OAuth2Peer, startOAuth2Peer } from '../../peers/oauth2.js';
import { RestFixtureServer } from '../../peers/rest-fixture.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { collect, collectFailure, context, FAST, ids, range } from './helpers.js';

const PASSWORD = 'Pa55:w&rd=with spaces';
const TOKEN = 'static-bearer-7f3a9c';
const API_KEY = 'k3y-abc-123456';
const CLIENT_SECRET = 'cl!ent s3cret&"quoted"\\';
const SECRET_VALUES = [PASSWORD, TOKEN, API_KEY, CLIENT_SECRET];

let api: RestFixtureServer;
let idp: OAuth2Peer;
let secrets: SecretsDir;
let capture: CapturedLog;
const employees = range(1, 7).map((id) => ({ id }));

beforeAll(async () => {
  api = await RestFixtureServer.start();
  idp = await startOAuth2Peer({ clients: { provisio: CLIENT_SECRET } });
  secrets = await createSecretsDir({
    'basic-creds': { username: 'svc-provisio', password: PASSWORD },
    'wrong-basic': { username: 'svc-provisio', password: 'not-the-password' },
    'bearer-creds': { token: TOKEN },
    'api-key': { value: API_KEY },
    'client-creds': { client_id: 'provisio', client_secret: CLIENT_SECRET },
    'bad-client': { client_id: 'provisio', client_secret: 'wrong-secret-value' },
    incomplete: { username: 'svc-provisio' },
  });
});
beforeEach(() => {
  capture = captureLogger('debug');
  idp.logins.length = 0;
  idp.expiresIn = undefined;
});
afterEach(() => {
  api.reset();
  // Whatever a test did, no secret value may have reached the log.
  for (const value of SECRET_VALUES) expect(capture.text()).not.toContain(value);
});
afterAll(async () => {
  await api?.close();
  await idp?.stop();
  await secrets?.cleanup();
});

const ctxFor = (rest: Omit<RestConnector, 'baseUrl'>, query = '/employees') =>
  context({ baseUrl: api.url, ...rest }, { query }, { secrets: secrets.resolver, log: capture.log });

const expectNoSecrets = (text: string): void => {
  for (const value of SECRET_VALUES) expect(text).not.toContain(value);
};

describe('static authentication', () => {
  it('basic: sends username and password', async () => {
    api.auth = { type: 'basic', username: 'svc-provisio', password: PASSWORD };
    api.collection('/employees', employees, { paging: 'none' });
    const ctx = ctxFor({ auth: { type: 'basic', secretRef: { name: 'basic-creds' } } });
    expect(ids(await collect(extractRest(ctx)))).toEqual(range(1, 7));
  });

  it('basic with a wrong password: 401 fails at once with a hint and without credentials', async () => {
    api.auth = { type: 'basic', username: 'svc-provisio', password: PASSWORD };
    api.collection('/employees', employees, { paging: 'none' });
    const ctx = ctxFor({ auth: { type: 'basic', secretRef: { name: 'wrong-basic' } } });
    const { error } = await collectFailure(extractRest(ctx, FAST));
    expect(error.message).toBe(
      'GET /employees failed: HTTP 401 Unauthorized (check spec.rest.auth and its secret): {"error":"unauthorized"}',
    );
    expect(api.calls()).toHaveLength(1);
  });

  it('bearer: sends the static token', async () => {
    api.auth = { type: 'bearer', token: TOKEN };
    api.collection('/employees', employees, { paging: 'none' });
    const ctx = ctxFor({ auth: { type: 'bearer', secretRef: { name: 'bearer-creds' } } });
    expect(await collect(extractRest(ctx))).toHaveLength(7);
    expect(api.calls()[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('header: sends the key in the named header, next to the connector headers', async () => {
    api.auth = { type: 'header', name: 'ApiKey', value: API_KEY };
    api.collection('/employees', employees, { paging: 'none' });
    const ctx = ctxFor({
      headers: { 'X-Tenant': 'acme' },
      auth: { type: 'header', headerName: 'ApiKey', secretRef: { name: 'api-key' } },
    });
    expect(await collect(extractRest(ctx))).toHaveLength(7);
    expect(api.calls()[0].headers['x-tenant']).toBe('acme');
  });

  it('names a missing secret key, not its value', async () => {
    const ctx = ctxFor({ auth: { type: 'basic', secretRef: { name: 'incomplete' } } });
    const { error } = await collectFailure(extractRest(ctx));
    expect(error.status).toBe('Failed');
    expect(error.message).toBe(
      `secret "incomplete" has no key "password" (looked in the secrets folder ${secrets.dir}/incomplete/ and the PROVISIO_SECRET_INCOMPLETE_* variables)`,
    );
    expect(api.calls()).toHaveLength(0);
  });

  it('names a missing secret', async () => {
    const ctx = ctxFor({ auth: { type: 'bearer', secretRef: { name: 'nope' } } });
    const { error } = await collectFailure(extractRest(ctx));
    // Git mode: where it was looked for, never a namespace that holds no secrets.
    expect(error.message).toBe(
      `secret "nope" not found (looked in the secrets folder ${secrets.dir}/nope/ and the PROVISIO_SECRET_NOPE_* variables)`,
    );
  });

  it('redacts secret values that an upstream error echoes back', async () => {
    api.route('GET', '/employees', (req) => ({
      status: 400,
      json: { error: 'bad request', got: req.headers.authorization, query: req.url },
    }));
    const ctx = ctxFor({ auth: { type: 'bearer', secretRef: { name: 'bearer-creds' } } }, `/employees?key=${TOKEN}`);
    const { error } = await collectFailure(extractRest(ctx, FAST));
    expect(error.message).toBe(
      'GET /employees failed: HTTP 400 Bad Request: {"error":"bad request","got":"Bearer [redacted]","query":"/employees?key=[redacted]"}',
    );
    expectNoSecrets(error.message);
  });
});

describe('dynamic token (OAuth2 client credentials)', () => {
  const dynamic = (
    extra: Partial<NonNullable<RestConnector['auth']>['dynamicToken']> = {},
  ): Omit<RestConnector, 'baseUrl'> => ({
    pagination: { type: 'startOffset', pageSize: 3 },
    auth: {
      type: 'dynamicToken',
      secretRef: { name: 'client-creds' },
      dynamicToken: {
        loginUrl: idp.tokenUrl,
        body: 'grant_type=client_credentials&client_id=${client_id}&client_secret=${client_secret}',
        tokenPath: 'access_token',
        expiresInPath: 'expires_in',
        ...extra,
      },
    },
  });
  const acceptIssuedTokens = (): void => {
    api.auth = { type: 'verify', verify: (req) => idp.verifyAuthorization(req.headers.authorization) };
  };

  it('logs in once (form body) and reuses the token across pages', async () => {
    acceptIssuedTokens();
    api.collection('/employees', employees, { paging: 'offset' });
    const ctx = ctxFor(dynamic());
    expect(ids(await collect(extractRest(ctx)))).toEqual(range(1, 7));
    expect(idp.logins).toHaveLength(1);
    expect(idp.logins[0].body).toEqual({
      grant_type: 'client_credentials',
      client_id: 'provisio',
      client_secret: CLIENT_SECRET,
    });
    expect(idp.logins[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    const sent = api.calls().map((r) => r.headers.authorization);
    expect(sent).toEqual(Array(3).fill(`Bearer ${idp.logins[0].token}`));
    expect(ctx.progressCalls.map((p) => p.apiCalls)).toEqual([1, 2, 3]);
  });

  it('logs in with a JSON body, JSON-escaping the secret values, and a custom token header', async () => {
    api.auth = { type: 'verify', verify: (req) => idp.verifyAuthorization(req.headers['x-auth']) };
    api.collection('/employees', employees, { paging: 'offset' });
    const ctx = ctxFor(
      dynamic({
        contentType: 'application/json',
        body: '{"grant_type":"client_credentials","client_id":"${client_id}","client_secret":"${client_secret}"}',
        header: { name: 'X-Auth', value: 'Bearer ${token}' },
      }),
    );
    expect(await collect(extractRest(ctx))).toHaveLength(7);
    expect(idp.logins.map((l) => l.body)).toEqual([
      { grant_type: 'client_credentials', client_id: 'provisio', client_secret: CLIENT_SECRET },
    ]);
    expect(idp.logins[0].headers['content-type']).toBe('application/json');
    expect(api.calls()[0].headers.authorization).toBeUndefined();
  });

  it('fetches a new token exactly once on a 401 and repeats only that request', async () => {
    let revoked = false;
    api.auth = {
      type: 'verify',
      verify: (req) => {
        // The API rotates its keys after the first page: the current token stops working.
        if (req.query.get('offset') === '3' && !revoked) {
          revoked = true;
          idp.revokeAll();
        }
        return idp.verifyAuthorization(req.headers.authorization);
      },
    };
    api.collection('/employees', employees, { paging: 'offset' });
    const ctx = ctxFor(dynamic());
    expect(ids(await collect(extractRest(ctx)))).toEqual(range(1, 7));
    expect(idp.logins).toHaveLength(2);
    const [first, second] = idp.logins.map((l) => `Bearer ${l.token}`);
    expect(api.calls().map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/employees?offset=0&limit=3', first],
      ['/employees?offset=3&limit=3', first],
      ['/employees?offset=3&limit=3', second],
      ['/employees?offset=6&limit=3', second],
    ]);
    // The repeated request is a retry, not another API call.
    expect(ctx.progressCalls.map((p) => p.apiCalls)).toEqual([1, 2, 3]);
  });

  it('fails when the API still answers 401 with a fresh token', async () => {
    api.auth = { type: 'verify', verify: () => false };
    api.collection('/employees', employees, { paging: 'offset' });
    const { error } = await collectFailure(extractRest(ctxFor(dynamic()), FAST));
    expect(error.message).toBe(
      'GET /employees failed: HTTP 401 Unauthorized (check spec.rest.auth and its secret): {"error":"unauthorized"}',
    );
    expect(idp.logins).toHaveLength(2);
    expect(api.calls()).toHaveLength(2);
    expectNoSecrets(error.message);
  });

  it('renews the token shortly before it expires', async () => {
    acceptIssuedTokens();
    idp.expiresIn = 1;
    api.collection('/employees', employees, { paging: 'offset' });
    // The first page takes 700 ms: past half of the 1 s lifetime, so page 2 needs a new token.
    api.fault('/employees', { kind: 'delay', ms: 700 });
    expect(ids(await collect(extractRest(ctxFor(dynamic()))))).toEqual(range(1, 7));
    expect(idp.logins).toHaveLength(2);
    const tokens = api.calls().map((r) => r.headers.authorization);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(tokens[1]).toBe(tokens[2]);
  });

  it('reports a refused login without the client secret', async () => {
    acceptIssuedTokens();
    api.collection('/employees', employees, { paging: 'offset' });
    const rest = dynamic();
    if (rest.auth) rest.auth.secretRef = { name: 'bad-client' };
    const { error } = await collectFailure(extractRest(ctxFor(rest), FAST));
    expect(error.message).toBe(
      `login request POST ${idp.url}/token failed: HTTP 401 Unauthorized: ` +
        '{"error":"invalid_client","error_description":"client authentication failed"}',
    );
    expect(api.calls()).toHaveLength(0);
    expect(error.message).not.toContain('wrong-secret-value');
  });

  it('logs in with GET, sending a form body as the query string', async () => {
    api.collection('/employees', employees, { paging: 'offset' });
    api.route('GET', '/login', (req) => ({
      json: req.query.get('client_secret') === CLIENT_SECRET ? { data: { token: 'fixture-token-1' } } : {},
    }));
    api.auth = { type: 'bearer', token: 'fixture-token-1' };
    api.publicPaths.add('/login');
    const ctx = ctxFor(dynamic({ loginUrl: `${api.url}/login`, method: 'GET', tokenPath: 'data.token' }));
    expect(await collect(extractRest(ctx))).toHaveLength(7);
    expect(api.calls().map((r) => r.path)).toEqual(['/login', '/employees', '/employees', '/employees']);
    expect(api.calls()[0].method).toBe('GET');
    expect(api.calls()[0].headers['content-type']).toBeUndefined();
    expect(api.calls()[1].headers.authorization).toBe('Bearer fixture-token-1');
  });

  it('reports a login answer without a token', async () => {
    api.route('POST', '/login', () => ({ json: { result: 'ok' } }));
    const { error } = await collectFailure(
      extractRest(ctxFor(dynamic({ loginUrl: `${api.url}/login`, tokenPath: 'data.token' })), FAST),
    );
    expect(error.message).toBe(
      `login request POST ${api.url}/login: the response has no token at "data.token" (it has result)`,
    );
  });
});

describe('checkConnection', () => {
  it('is ok with working credentials', async () => {
    api.auth = { type: 'bearer', token: TOKEN };
    api.route('GET', '/api', () => ({ json: { name: 'hr' } }));
    const ctx = context(
      { baseUrl: `${api.url}/api`, auth: { type: 'bearer', secretRef: { name: 'bearer-creds' } } },
      { query: '/' },
      { secrets: secrets.resolver, log: capture.log },
    );
    expect(await checkRestConnection(ctx)).toEqual({ ok: true, message: 'GET /api answered HTTP 200 OK' });
  });

  it('is not ok on 401 and on 5xx, ok on 429 and 404 (the server answered)', async () => {
    api.auth = { type: 'bearer', token: 'another' };
    const ctx = context(
      { baseUrl: `${api.url}/api`, auth: { type: 'bearer', secretRef: { name: 'bearer-creds' } } },
      { query: '/' },
      { secrets: secrets.resolver, log: capture.log },
    );
    expect(await checkRestConnection(ctx)).toEqual({
      ok: false,
      message: 'GET /api answered HTTP 401 Unauthorized: check spec.rest.auth and its secret',
    });
    api.auth = undefined;
    api.fault('/api', { kind: 'status', status: 502, body: 'bad gateway' });
    expect(await checkRestConnection(ctx)).toEqual({
      ok: false,
      message: 'GET /api answered HTTP 502 Bad Gateway: bad gateway',
    });
    api.fault('/api', { kind: 'status', status: 429, headers: { 'Retry-After': '1' } });
    expect(await checkRestConnection(ctx)).toEqual({
      ok: true,
      message: 'GET /api answered HTTP 429 Too Many Requests',
    });
    expect(await checkRestConnection(ctx)).toEqual({ ok: true, message: 'GET /api answered HTTP 404 Not Found' });
    expect(api.calls('/api')).toHaveLength(4);
  });

  it('is not ok when the login fails', async () => {
    const ctx = context(
      {
        baseUrl: api.url,
        auth: {
          type: 'dynamicToken',
          secretRef: { name: 'bad-client' },
          dynamicToken: {
            loginUrl: idp.tokenUrl,
            body: 'grant_type=client_credentials&client_id=${client_id}&client_secret=${client_secret}',
            tokenPath: 'access_token',
          },
        },
      },
      { query: '/' },
      { secrets: secrets.resolver, log: capture.log },
    );
    const check = await checkRestConnection(ctx);
    expect(check.ok).toBe(false);
    expect(check.message).toBe(
      `login request POST ${idp.url}/token failed: HTTP 401 Unauthorized: ` +
        '{"error":"invalid_client","error_description":"client authentication failed"}',
    );
  });
});
