/**
 * restCall security: URLs that would take the connector's credentials elsewhere are refused before anything is
 * sent; values cannot break out of their URL component or JSON string; secret values echoed by an upstream
 * never reach the exception text or the log.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeRestActionSessions, restCall } from '../../../src/connectors/rest/actions/index.js';
import type { ActionContext, InvokeData } from '../../../src/connectors/types.js';
import { InvalidInvocationError } from '../../../src/connectors/types.js';
import type { RestConnector, TaskEvent } from '../../../src/generated/types.js';
import type { Task } from '../../../src/model/resources.js';
import { type CapturedLog, captureLogger } from '../../peers/log-capture.js';
import { freePort } from '../../peers/ports.js';
import { RestFixtureServer } from '../../peers/rest-fixture.js';
import { createSecretsDir, type SecretsDir } from '../../peers/secrets.js';
import { connector, NAMESPACE } from './helpers.js';

const PASSWORD = 'Pa55:w&rd=with spaces"\\';
const TOKEN = 'static-bearer-7f3a9c';
const API_KEY = 'k3y-abc-123456';
const CLIENT_SECRET = 'cl!ent s3cret&"quoted"';
const DYNAMIC_TOKEN = 'dyn-token-5e1f0a9b';
const BASIC = Buffer.from(`svc:${PASSWORD}`).toString('base64');
const SECRETS = [PASSWORD, TOKEN, API_KEY, CLIENT_SECRET, DYNAMIC_TOKEN, BASIC];

let api: RestFixtureServer;
let secrets: SecretsDir;
let capture: CapturedLog;
let otherPort: number;

beforeAll(async () => {
  api = await RestFixtureServer.start();
  otherPort = await freePort();
  secrets = await createSecretsDir({
    basic: { username: 'svc', password: PASSWORD },
    bearer: { token: TOKEN },
    key: { value: API_KEY },
    client: { client_id: 'provisio', client_secret: CLIENT_SECRET },
  });
});
beforeEach(() => {
  capture = captureLogger('debug');
});
afterEach(async () => {
  api.reset();
  await closeRestActionSessions();
  for (const s of SECRETS) expect(capture.text()).not.toContain(s);
});
afterAll(async () => {
  await api?.close();
  await secrets?.cleanup();
});

function ctxFor(event: TaskEvent = {}, rest: Partial<RestConnector> = {}): ActionContext {
  const task: Task = {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'hr-users', namespace: NAMESPACE },
    spec: { connectorRef: { name: 'hr-api' }, usage: 'event', mappingsType: 'generic', event },
  };
  return {
    connector: connector({ baseUrl: `${api.url}/api/`, ...rest }),
    task,
    namespace: NAMESPACE,
    secrets: secrets.resolver,
    signal: new AbortController().signal,
    log: capture.log,
  };
}

const refusal = async (ctx: ActionContext, input: Record<string, unknown>, data: InvokeData = {}): Promise<string> => {
  const error = await restCall(ctx, input, data).then(
    (r) => new Error(`expected a refusal, got ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInvocationError);
  return (error as Error).message;
};

describe('SSRF: call URLs off the connector are refused and nothing is sent', () => {
  const host = () => new URL(api.url).host;
  const origin = () => api.url;
  const CREDENTIALS = "; refusing to send the connector's credentials there";
  const variants: Array<[string, () => string, RegExp | (() => string)]> = [
    [
      'another host',
      () => 'http://evil.example/x',
      () => `input.url points to evil.example, outside the connector's origin ${origin()}${CREDENTIALS}`,
    ],
    ['another port', () => `http://127.0.0.1:${otherPort}/api/x`, /^input\.url points to 127\.0\.0\.1:\d+, outside/],
    [
      'another name for the host',
      () => `http://localhost:${new URL(api.url).port}/api/x`,
      /^input\.url points to localhost:/,
    ],
    ['IPv6 loopback', () => `http://[::1]:${new URL(api.url).port}/api/x`, /^input\.url points to \[::1\]:/],
    ['base@evil (the base as user info)', () => `${api.url}@evil.example/api/x`, /^input\.url carries user info/],
    ['user:password@ on the right host', () => `http://user:pw@${host()}/api/x`, /^input\.url carries user info/],
    ['user@ on the right host', () => `http://user@${host()}/api/x`, /^input\.url carries user info/],
    ['scheme-relative //evil', () => '//evil.example/x', /^input\.url starts with "\/\/", a scheme-relative URL/],
    [
      'scheme change http → https',
      () => `https://${host()}/api/x`,
      /^input\.url uses https but the connector's base URL uses http;/,
    ],
    ['ftp scheme', () => `ftp://${host()}/api/x`, /^input\.url uses ftp but/],
    ['file scheme', () => 'file:///etc/passwd', /^input\.url uses file but/],
    ['http: without slashes', () => 'http:evil.example/x', /^input\.url points to evil\.example/],
    ['upper-case scheme and host', () => 'HTTP://EVIL.EXAMPLE/api/x', /^input\.url points to evil\.example/],
    ['backslash host', () => '\\\\evil.example\\x', /^input\.url must not contain a backslash/],
    ['slash-backslash', () => '/\\evil.example/x', /^input\.url must not contain a backslash/],
    ['backslash before @', () => `http://${host()}\\@evil.example/api/x`, /^input\.url must not contain a backslash/],
    ['backslash dot-dot', () => '/users\\..\\..\\admin', /^input\.url must not contain a backslash/],
    [
      '../ out of the base path',
      () => '/../../admin',
      () => `input.url resolves to /admin, outside the connector's base path /api/${CREDENTIALS}`,
    ],
    [
      '%2e%2e out of the base path',
      () => '/%2e%2e/%2e%2e/admin',
      /^input\.url contains %2e \(an encoded "\."\) in its path/,
    ],
    [
      'mixed .%2E out of the base path',
      () => '/.%2E/%2E./admin',
      /^input\.url contains %2E \(an encoded "\."\) in its path/,
    ],
    [
      '..%2f out of the base path',
      () => '/..%2f..%2foauth/token',
      /^input\.url contains %2f \(an encoded "\/"\) in its path/,
    ],
    ['absolute URL outside the base path', () => `${api.url}/admin/x`, /^input\.url resolves to \/admin\/x, outside/],
    ['base path as a prefix of another path', () => `${api.url}/apix/x`, /^input\.url resolves to \/apix\/x, outside/],
    ['absolute URL with ..', () => `${api.url}/api/../admin`, /^input\.url resolves to \/admin, outside/],
    ['tab inside (parsers drop it)', () => '/users/\t../../../admin', /^input\.url must not contain spaces, tabs/],
    ['line break', () => '/users/1\r\nX-Injected: 1', /^input\.url must not contain spaces, tabs/],
    ['leading space', () => ' //evil.example/', /^input\.url must not contain spaces, tabs/],
  ];

  it.each(variants)('%s', async (_name, url, expected) => {
    const message = await refusal(ctxFor({ query: '/users' }), { method: 'POST', url: url(), body: '{}' });
    if (expected instanceof RegExp) expect(message).toMatch(expected);
    else expect(message).toBe(expected());
    expect(api.requests).toHaveLength(0);
  });

  it('the base URL scheme counts: https base, http call URL', async () => {
    const ctx = ctxFor({}, { baseUrl: 'https://api.example.com/v1/' });
    expect(await refusal(ctx, { method: 'GET', url: 'http://api.example.com/v1/users' })).toBe(
      "input.url uses http but the connector's base URL uses https; refusing to send the connector's credentials there",
    );
  });

  it('a substituted host cannot redirect the call', async () => {
    const message = await refusal(ctxFor(), { method: 'GET', url: 'http://$h$/api/x' }, { h: 'evil.example' });
    expect(message).toMatch(/^input\.url points to evil\.example/);
  });

  it('a value cannot make the URL absolute or scheme-relative', async () => {
    api.route('GET', '/api/:v', (_req, params) => ({ json: params }));
    for (const v of ['http://evil.example/x', '//evil.example/x', '\\\\evil.example']) {
      const result = await restCall(ctxFor(), { method: 'GET', url: '$v$' }, { v });
      expect(result.response).toEqual({ v });
    }
    expect(api.requests.map((r) => r.url)).toEqual([
      '/api/http%3A%2F%2Fevil.example%2Fx',
      '/api/%2F%2Fevil.example%2Fx',
      '/api/%5C%5Cevil.example',
    ]);
  });

  it('values with ../ stay one encoded segment', async () => {
    api.route('GET', '/api/users/:id', (_req, params) => ({ json: params }));
    const result = await restCall(ctxFor(), { method: 'GET', url: '/users/$id$' }, { id: '../../admin' });
    expect(api.requests[0].url).toBe('/api/users/..%2F..%2Fadmin');
    expect(result.response).toEqual({ id: '../../admin' });
  });

  it('a task query with encoded dots or slashes is refused at invoke, naming spec.event.query', async () => {
    for (const query of ['/users/..%2f..%2foauth/token', '/users/%2E%2E/admin']) {
      const message = await refusal(ctxFor({ query }), { method: 'GET', url: '/1' });
      expect(message).toMatch(/^spec\.event\.query contains %2[fE] \(an encoded "[./]"\) in its path; /);
    }
    expect(api.requests).toHaveLength(0);
  });

  it('an absolute task query off the origin is refused naming spec.event.query', async () => {
    const message = await refusal(ctxFor({ query: 'http://evil.example/users' }), { method: 'GET', url: '/1' });
    expect(message).toBe(
      `spec.event.query points to evil.example, outside the connector's origin ${api.url}; refusing to send the connector's credentials there`,
    );
    expect(await refusal(ctxFor({ query: '/../admin' }), { method: 'GET', url: '/1' })).toMatch(
      /^spec\.event\.query resolves to \/admin, outside/,
    );
  });
});

describe('injection through values', () => {
  const PAYLOADS = [
    'quote " inside',
    'back\\slash\\',
    '","admin":true,"x":"',
    '"}',
    '"},"admin":true,"y":{"z":"',
    'line\nbreak\r\n\ttab',
    '</script><script>alert(1)</script>',
    'ünïcödé ✓ 中文 Ω',
    'emoji 🎉👩‍💻🏳️‍🌈',
    '\u0000\u0007\u001f\u2028\u2029',
    '$name$',
    '%24name%24',
    '\\u0022,\\"admin\\":true',
    "'; DROP TABLE users; --",
    '&admin=true#frag',
    '?x=1/../../y',
  ];

  it.each(PAYLOADS)('%j stays one JSON string and one URL component', async (v) => {
    api.route('POST', '/api/users/:id', (req, params) => ({
      json: { params, query: req.query.get('q'), body: req.body },
    }));
    const result = await restCall(
      ctxFor(),
      {
        method: 'POST',
        url: '/users/$v$?q=$v$',
        body: '{"name": "$v$", "role": "user", "raw": $v$, "nested": {"s": "pre $v$ post"}}',
      },
      { v, name: 'NOT SUBSTITUTED TWICE' },
    );
    expect(result.state).toBe('Completed');
    const echoed = result.response as { params: { id: string }; query: string; body: string };
    expect(echoed.params.id).toBe(v);
    expect(echoed.query).toBe(v);
    expect(JSON.parse(echoed.body)).toEqual({ name: v, role: 'user', raw: v, nested: { s: `pre ${v} post` } });
  });

  it('a JSON-looking value outside a string is still one string (only a body that is one token is raw)', async () => {
    api.route('POST', '/api/x', (req) => ({ json: JSON.parse(req.body) }));
    const v = '{"admin": true}';
    const result = await restCall(
      ctxFor(),
      { method: 'POST', url: '/x', body: '{"role": "user", "extra": $v$}' },
      { v },
    );
    expect(result.response).toEqual({ role: 'user', extra: v });
  });
});

describe('secrets never reach exception texts or logs', () => {
  /** An API that refuses every call and quotes the credentials it got, as some do, plus the given secret values. */
  const tattletale = (...quoted: string[]): void => {
    api.route('POST', '/api/x', (req) => ({
      status: 400,
      json: {
        error: {
          message: `refused ${req.headers.authorization ?? ''} ${req.headers['x-api-key'] ?? ''} ${quoted.join(' ')}`,
        },
      },
    }));
  };
  const cases: Array<[string, RestConnector['auth'], string[]]> = [
    ['basic', { type: 'basic', secretRef: { name: 'basic' } }, [PASSWORD, BASIC]],
    ['bearer', { type: 'bearer', secretRef: { name: 'bearer' } }, [TOKEN]],
    ['header', { type: 'header', headerName: 'X-Api-Key', secretRef: { name: 'key' } }, [API_KEY]],
  ];

  it.each(cases)('%s', async (_type, auth, known) => {
    tattletale(...known);
    const result = await restCall(ctxFor({}, { auth }), { method: 'POST', url: '/x', body: '{}' }, {});
    expect(result.state).toBe('Exception');
    expect(result.exception).toMatch(/^POST \/api\/x answered 400 Bad Request: refused .*\[redacted\]/);
    for (const s of known) {
      expect(result.exception).not.toContain(s);
      // The response of a failed call is scrubbed too.
      expect(JSON.stringify(result.response)).not.toContain(s);
    }
  });

  it('dynamicToken: the token echoed by the API, and the client secret echoed by the login server', async () => {
    api.publicPaths.add('/login');
    api.route('POST', '/login', () => ({ json: { access_token: DYNAMIC_TOKEN, expires_in: 3600 } }));
    tattletale(CLIENT_SECRET, DYNAMIC_TOKEN);
    const auth: RestConnector['auth'] = {
      type: 'dynamicToken',
      secretRef: { name: 'client' },
      dynamicToken: {
        loginUrl: `${api.url}/login`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the schema's placeholders
        body: 'grant_type=client_credentials&client_id=${client_id}&client_secret=${client_secret}',
        tokenPath: 'access_token',
      },
    };
    const ctx = ctxFor({}, { auth });
    const result = await restCall(ctx, { method: 'POST', url: '/x', body: '{}' }, {});
    expect(result.exception).toMatch(/^POST \/api\/x answered 400 Bad Request: refused Bearer \[redacted\]/);
    for (const s of SECRETS) expect(result.exception).not.toContain(s);

    // A login server that quotes the client secret in its refusal.
    await closeRestActionSessions();
    api.reset();
    api.publicPaths.add('/login');
    api.route('POST', '/login', (req) => ({ status: 400, json: { error: 'invalid_client', got: req.body } }));
    const failed = await restCall(ctxFor({}, { auth }), { method: 'POST', url: '/x', body: '{}' }, {});
    expect(failed.state).toBe('Exception');
    expect(failed.exception).toMatch(
      /^POST \/api\/x was not sent: login request POST http:\/\/127\.0\.0\.1:\d+\/login failed: HTTP 400 Bad Request: /,
    );
    expect(failed.exception).toContain('[redacted]');
    for (const s of SECRETS) expect(failed.exception).not.toContain(s);
  });
});
