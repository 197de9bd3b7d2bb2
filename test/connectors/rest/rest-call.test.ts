/**
 * The restCall activity against a real upstream over 127.0.0.1 (RestFixtureServer): methods, URL building,
 * substitution end to end, header precedence, bodies, result semantics and date formatting. Routes echo what
 * they received, and the recorded requests show exactly what went over the wire.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeRestActionSessions, restCall } from '../../../src/connectors/rest/actions/index.js';
import { restConnector } from '../../../src/connectors/rest/index.js';
import type { ActionContext, ActionResult, InvokeData } from '../../../src/connectors/types.js';
import { InvalidInvocationError } from '../../../src/connectors/types.js';
import type { RestConnector, TaskEvent } from '../../../src/generated/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { Task } from '../../../src/model/resources.js';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { type RecordedRequest, RestFixtureServer } from '../../peers/rest-fixture.js';
import { connector, NAMESPACE } from './helpers.js';

let api: RestFixtureServer;

beforeAll(async () => {
  api = await RestFixtureServer.start();
});
afterEach(async () => {
  api.reset();
  await closeRestActionSessions();
});
afterAll(async () => {
  await api?.close();
});

function eventTask(event: TaskEvent = {}): Task {
  return {
    apiVersion: 'provisio.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'hr-users', namespace: NAMESPACE },
    spec: { connectorRef: { name: 'hr-api' }, usage: 'event', mappingsType: 'generic', event },
  };
}

function ctxFor(event: TaskEvent = {}, rest: Partial<RestConnector> = {}): ActionContext {
  return {
    connector: connector({ baseUrl: `${api.url}/api/`, ...rest }),
    task: eventTask(event),
    namespace: NAMESPACE,
    secrets: new LocalSecretResolver(undefined, {}),
    signal: new AbortController().signal,
    log: silentLogger,
  };
}

/** Echoes method, raw URL, headers and body for any request on `pattern`. */
const echo = (method: string, pattern: string, status = 200): void => {
  api.route(method, pattern, (req: RecordedRequest) => ({
    status,
    json: { method: req.method, url: req.url, body: req.body, contentType: req.headers['content-type'] ?? null },
  }));
};

const call = (ctx: ActionContext, input: Record<string, unknown>, data: InvokeData = {}): Promise<ActionResult> =>
  restCall(ctx, input, data);

const only = (): RecordedRequest => {
  expect(api.requests).toHaveLength(1);
  return api.requests[0];
};

it('is registered as restConnector.actions.restCall', () => {
  expect(restConnector.actions?.restCall).toBe(restCall);
});

describe('methods', () => {
  it.each(['get', 'Post', 'PUT', 'patch', 'dElEtE'])('%s is sent upper-cased', async (method) => {
    const upper = method.toUpperCase();
    echo(upper, '/api/users/:id');
    const result = await call(ctxFor({ query: '/users' }), { method, url: '/$id$' }, { id: '42' });
    expect(result).toEqual({
      state: 'Completed',
      statusCode: 200,
      response: { method: upper, url: '/api/users/42', body: '', contentType: null },
      exception: null,
    });
    expect(only().method).toBe(upper);
  });

  it.each(['GET', 'DELETE'])('%s without a body sends none and no Content-Type', async (method) => {
    echo(method, '/api/users/:id');
    await call(ctxFor(), { method, url: '/users/1' });
    const req = only();
    expect(req.body).toBe('');
    expect(req.headers['content-type']).toBeUndefined();
    expect(req.headers['content-length'] ?? '0').toBe('0');
  });

  it.each(['POST', 'PUT', 'PATCH'])('%s sends the substituted body as application/json', async (method) => {
    echo(method, '/api/users');
    const result = await call(
      ctxFor(),
      { method, url: '/users', body: '{"givenName": "$first$", "age": $age$}' },
      { first: 'Ada', age: 36 },
    );
    expect(result.state).toBe('Completed');
    const req = only();
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ givenName: 'Ada', age: 36 });
  });

  it('DELETE may carry a body', async () => {
    echo('DELETE', '/api/users/1');
    await call(ctxFor(), { method: 'DELETE', url: '/users/1', body: '{"reason": "$why$"}' }, { why: 'left' });
    expect(JSON.parse(only().body)).toEqual({ reason: 'left' });
  });

  it('an empty or blank body is no body', async () => {
    echo('POST', '/api/users');
    await call(ctxFor(), { method: 'POST', url: '/users', body: '  ' });
    expect(only().body).toBe('');
    expect(only().headers['content-type']).toBeUndefined();
  });

  it('an object body is serialized, and tokens in its strings are substituted', async () => {
    echo('POST', '/api/users');
    await call(
      ctxFor(),
      { method: 'POST', url: '/users', body: { name: '$name$', tags: ['$tag$'], n: 1 } },
      { name: 'A "quoted" name', tag: 'x' },
    );
    expect(JSON.parse(only().body)).toEqual({ name: 'A "quoted" name', tags: ['x'], n: 1 });
  });

  it('the task may ask for a form body; values are form-encoded', async () => {
    echo('POST', '/api/login');
    const ctx = ctxFor({ headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    await call(ctx, { method: 'POST', url: '/login', body: 'user=$u$&note=$n$' }, { u: 'ada', n: 'a&b=c' });
    expect(only().body).toBe('user=ada&note=a%26b%3Dc');
    expect(only().headers['content-type']).toBe('application/x-www-form-urlencoded');
  });
});

describe('invalid invocations (InvalidInvocationError, nothing sent)', () => {
  const refusals: Array<[string, Record<string, unknown>, string]> = [
    ['HEAD', { method: 'HEAD', url: '/x' }, 'input.method must be one of GET, POST, PUT, PATCH, DELETE'],
    ['TRACE', { method: 'TRACE', url: '/x' }, 'input.method must be one of GET, POST, PUT, PATCH, DELETE'],
    ['no method', { url: '/x' }, 'input.method must be one of GET, POST, PUT, PATCH, DELETE'],
    ['a number', { method: 1, url: '/x' }, 'input.method must be one of GET, POST, PUT, PATCH, DELETE'],
    ['url not a string', { method: 'GET', url: 42 }, 'input.url must be a string such as /users/$id$'],
    ['body a number', { method: 'POST', url: '/x', body: 5 }, 'input.body must be a JSON text (a string) or an object'],
    [
      'misspelt field',
      { method: 'DELETE', Url: '/users/1' },
      'unknown input field(s) "Url": restCall takes method, url and body',
    ],
    ['body not JSON', { method: 'POST', url: '/x', body: '{"a": ' }, 'input.body is not valid JSON ('],
  ];
  it.each(refusals)('%s', async (_name, input, message) => {
    const error = await call(ctxFor(), input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInvocationError);
    expect((error as Error).message.startsWith(message)).toBe(true);
    expect(api.requests).toHaveLength(0);
  });

  it('url may be left out: the call goes to base URL + task query', async () => {
    echo('GET', '/api/users');
    const result = await call(ctxFor({ query: '/users' }), { method: 'GET' });
    expect(result.state).toBe('Completed');
    expect(only().url).toBe('/api/users');
  });
});

describe('URL building', () => {
  const cases: Array<[string, string, string | undefined, string, string]> = [
    ['base/ + /query + /url', '/api/', '/users', '/$id$', '/api/users/42'],
    ['base + query + url without slashes', '/api', 'users', '$id$', '/api/users/42'],
    ['trailing slashes do not double', '/api/', '/users/', '/$id$', '/api/users/42'],
    ['no task query', '/api/', undefined, '/users/$id$', '/api/users/42'],
    ['empty call URL', '/api/', '/users', '', '/api/users'],
    ['empty call URL, no query', '/api/', undefined, '', '/api/'],
    [
      'query strings of task and call are kept',
      '/api/',
      '/users?active=true',
      '/$id$?expand=groups',
      '/api/users/42?active=true&expand=groups',
    ],
    ['call URL that is only a query string', '/api/', '/users', '?top=5', '/api/users?top=5'],
    ['base URL query string is kept', '/api/?v=2', '/users', '/$id$', '/api/users/42?v=2'],
    ['a trailing slash of the call URL is kept', '/api/', '/users', '/$id$/', '/api/users/42/'],
    ['a fragment is not sent', '/api/', '/users', '/$id$#frag', '/api/users/42'],
    ['.. that stays under the base path', '/api/', '/users', '/../groups/$id$', '/api/groups/42'],
    ['root base URL', '', '/users', '/$id$', '/users/42'],
  ];
  it.each(cases)('%s', async (_name, basePath, query, url, expected) => {
    const ctx = ctxFor(query === undefined ? {} : { query }, { baseUrl: `${api.url}${basePath}` });
    const result = await call(ctx, { method: 'GET', url }, { id: '42' });
    expect(result.statusCode).toBe(404); // no route: only the URL matters here
    expect(only().url).toBe(expected);
  });

  it('an absolute call URL on the connector origin under its base path is used as is', async () => {
    echo('GET', '/api/other/:id');
    const result = await call(
      ctxFor({ query: '/users' }),
      { method: 'GET', url: `${api.url}/api/other/$id$?x=1` },
      { id: 7 },
    );
    expect(result.state).toBe('Completed');
    expect(only().url).toBe('/api/other/7?x=1');
  });

  it('an absolute task query on the connector origin is the prefix', async () => {
    echo('GET', '/api/v2/users/:id');
    const result = await call(ctxFor({ query: `${api.url}/api/v2/users` }), { method: 'GET', url: '/$id$' }, { id: 7 });
    expect(result.state).toBe('Completed');
    expect(only().url).toBe('/api/v2/users/7');
  });

  it('encoded slashes and query characters in values stay inside their segment', async () => {
    echo('GET', '/api/users/:id');
    const result = await call(ctxFor(), { method: 'GET', url: '/users/$id$?q=$id$' }, { id: '../a/b?c=d#e&f' });
    expect(only().url).toBe('/api/users/..%2Fa%2Fb%3Fc%3Dd%23e%26f?q=..%2Fa%2Fb%3Fc%3Dd%23e%26f');
    expect(only().query.get('q')).toBe('../a/b?c=d#e&f');
    expect(result.state).toBe('Completed');
  });

  it('spaces, unicode, %24 and commas of arrays', async () => {
    echo('GET', '/api/x/:a/:b/:c');
    await call(ctxFor(), { method: 'GET', url: '/x/$a$/%24b/$c$' }, { a: 'Åsa Öberg', c: ['x', 'y z'] });
    expect(only().url).toBe('/api/x/%C3%85sa%20%C3%96berg/%24b/x%2Cy%20z');
  });
});

describe('substitution end to end', () => {
  it('$attr$ and $reference:attr$ in the URL and body (JSON-escaped)', async () => {
    echo('PATCH', '/api/users/:id');
    const data: InvokeData = {
      objectGUID: 'a1b2',
      displayName: 'Ada "the first" Lovelace\n',
      reference: { manager: { mail: 'boss@example.com', objectGUID: 'm9' } },
    };
    const result = await call(
      ctxFor({ query: '/users' }),
      {
        method: 'PATCH',
        url: '/$objectGUID$?manager=$manager:objectGUID$',
        body: '{"displayName": "$displayName$", "manager": {"mail": "$manager:mail$"}}',
      },
      data,
    );
    expect(result.state).toBe('Completed');
    const req = only();
    expect(req.url).toBe('/api/users/a1b2?manager=m9');
    expect(JSON.parse(req.body)).toEqual({
      displayName: 'Ada "the first" Lovelace\n',
      manager: { mail: 'boss@example.com' },
    });
  });

  it('a body that is one token holding a JSON document is sent raw', async () => {
    echo('POST', '/api/users');
    const doc = '{"displayName":"Ada","accountEnabled":true,"groups":["a","b"]}';
    await call(ctxFor(), { method: 'POST', url: '/users', body: ' $payload$ ' }, { payload: doc });
    expect(only().body).toBe(doc);
    api.reset();
    echo('POST', '/api/users');
    await call(ctxFor(), { method: 'POST', url: '/users', body: '$payload$' }, { payload: { a: [1, { b: null }] } });
    expect(only().body).toBe('{"a":[1,{"b":null}]}');
  });

  it.each([
    ['input.url', { method: 'GET', url: '/users/$foo$' }, 'unknown attribute "foo" in input.url'],
    ['input.body', { method: 'POST', url: '/users', body: '{"a": "$foo$"}' }, 'unknown attribute "foo" in input.body'],
    [
      'a reference attribute',
      { method: 'GET', url: '/users/$manager:phone$' },
      'unknown attribute "manager:phone" in input.url (data.reference.manager has no "phone")',
    ],
    [
      'a reference',
      { method: 'POST', url: '/u', body: '{"a": $owner:mail$}' },
      'unknown attribute "owner:mail" in input.body (data.reference has no "owner")',
    ],
  ])('an unknown attribute in %s is an Exception and nothing is sent', async (_where, input, text) => {
    const result = await call(ctxFor(), input, { id: 1, reference: { manager: { mail: 'm@x' } } });
    expect(result).toEqual({ state: 'Exception', response: null, exception: text });
    expect(api.requests).toHaveLength(0);
  });

  it('a value that would be a ".." segment is refused', async () => {
    const error = await call(ctxFor(), { method: 'DELETE', url: '/users/$id$' }, { id: '..' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInvocationError);
    expect((error as Error).message).toBe('the value of "id" would make a "." or ".." path segment in input.url');
    expect(api.requests).toHaveLength(0);
  });

  it('dates: task dateFormat and dateTimeFormat in URL and body', async () => {
    echo('PUT', '/api/people/:d');
    const ctx = ctxFor({ dateFormat: 'dd.MM.yyyy', dateTimeFormat: "yyyy-MM-dd HH:mm 'UTC'XXX" });
    await call(
      ctx,
      { method: 'PUT', url: '/people/$born$', body: '{"born": "$born$", "at": $at$, "plain": "$text$"}' },
      { born: '1990-07-04', at: '2024-03-05T10:20:30.5+02:00', text: 'not a date' },
    );
    const req = only();
    expect(req.url).toBe('/api/people/04.07.1990');
    expect(JSON.parse(req.body)).toEqual({ born: '04.07.1990', at: '2024-03-05 10:20 UTC+02:00', plain: 'not a date' });
  });

  it("dates: defaults yyyy-MM-dd and yyyy-MM-dd'T'HH:mm:ssXXX", async () => {
    echo('POST', '/api/x');
    await call(
      ctxFor(),
      { method: 'POST', url: '/x', body: '{"d": "$d$", "t": "$t$"}' },
      { d: '2024-02-29', t: '2024-03-05T10:20:30.123Z' },
    );
    expect(JSON.parse(only().body)).toEqual({ d: '2024-02-29', t: '2024-03-05T10:20:30Z' });
  });

  it('a bad date pattern in the task is an Exception naming the field', async () => {
    const result = await call(ctxFor({ dateFormat: 'yyyy-QQ' }), { method: 'GET', url: '/x' });
    expect(result.state).toBe('Exception');
    expect(result.exception).toBe(
      'task "hr-users": spec.event: unsupported pattern letters "QQ" in date format "yyyy-QQ"; use y, M, d, E, H, h, m, s, S, a, X, x, Z and put literal text in single quotes (\'T\')',
    );
    expect(api.requests).toHaveLength(0);
  });
});

describe('headers', () => {
  it('connector headers, then task headers (task wins, any case), then auth; Accept defaults to JSON', async () => {
    echo('POST', '/api/x');
    const ctx = ctxFor(
      { headers: { 'x-both': 'task', 'X-Task': 't', 'X-Key': 'task-value' } },
      {
        headers: { 'X-Both': 'connector', 'X-Connector': 'c', 'X-Key': 'connector-value' },
        auth: { type: 'header', headerName: 'x-key', secretRef: { name: 'key' } },
      },
    );
    ctx.secrets = new LocalSecretResolver(undefined, { PROVISIO_SECRET_KEY_VALUE: 'auth-value' });
    await call(ctx, { method: 'POST', url: '/x', body: '{}' });
    const h = only().headers;
    expect(h['x-both']).toBe('task');
    expect(h['x-task']).toBe('t');
    expect(h['x-connector']).toBe('c');
    expect(h['x-key']).toBe('auth-value');
    expect(h.accept).toBe('application/json');
    expect(h['content-type']).toBe('application/json');
  });

  it('a Content-Type set by connector or task is kept', async () => {
    echo('POST', '/api/x');
    const ctx = ctxFor({}, { headers: { 'content-type': 'application/merge-patch+json' } });
    await call(ctx, { method: 'POST', url: '/x', body: '{"a": "$a$"}' }, { a: 'b"c' });
    expect(only().headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(only().body)).toEqual({ a: 'b"c' });
  });

  it('task Accept wins over the default', async () => {
    echo('GET', '/api/x');
    await call(ctxFor({ headers: { Accept: 'text/csv' } }), { method: 'GET', url: '/x' });
    expect(only().headers.accept).toBe('text/csv');
  });
});

describe('results', () => {
  const reply = (status: number, r: { json?: unknown; body?: string; headers?: Record<string, string> } = {}) =>
    api.route('POST', '/api/users', () => ({ status, ...r }));

  it('404: Exception with the upstream message; response is the body', async () => {
    const result = await call(ctxFor({ query: '/users' }), { method: 'PATCH', url: '/$id$', body: '{}' }, { id: 42 });
    expect(result).toEqual({
      state: 'Exception',
      statusCode: 404,
      response: { error: 'no route for PATCH /api/users/42' },
      exception: 'PATCH /api/users/42 answered 404 Not Found: no route for PATCH /api/users/42',
    });
  });

  it('500: error.message', async () => {
    reply(500, { json: { error: { code: 'E1', message: 'database down' } } });
    const result = await call(ctxFor(), { method: 'POST', url: '/users', body: '{}' });
    expect(result.exception).toBe('POST /api/users answered 500 Internal Server Error: database down');
    expect(result.statusCode).toBe(500);
    expect(api.requests).toHaveLength(1); // never retried
  });

  it.each([
    [{ json: { message: 'name is required' } }, 'name is required'],
    [{ json: { errors: [{ message: 'first problem' }, { message: 'second' }] } }, 'first problem'],
    [{ json: { errors: ['plain problem'] } }, 'plain problem'],
    [{ json: { error: 'invalid_request', error_description: 'bad field' } }, 'invalid_request: bad field'],
    [{ json: { type: 'about:blank', title: 'Bad Request', detail: 'age must be a number' } }, 'age must be a number'],
    [{ json: { unexpected: true } }, '{"unexpected":true}'],
    [
      { body: 'plain text failure\n  on two lines', headers: { 'Content-Type': 'text/plain' } },
      'plain text failure on two lines',
    ],
    [{ body: '' }, undefined],
  ])('400 %j → %j', async (r, detail) => {
    reply(400, r);
    const result = await call(ctxFor(), { method: 'POST', url: '/users', body: '{}' });
    expect(result.exception).toBe(
      `POST /api/users answered 400 Bad Request${detail === undefined ? '' : `: ${detail}`}`,
    );
  });

  it('a long error body is cut to 300 characters', async () => {
    reply(422, { json: { message: 'x'.repeat(1000) } });
    const result = await call(ctxFor(), { method: 'POST', url: '/users', body: '{}' });
    expect(result.exception).toBe(`POST /api/users answered 422 Unprocessable Entity: ${'x'.repeat(300)}…`);
  });

  it('204: Completed with response null', async () => {
    api.route('DELETE', '/api/users/:id', () => ({ status: 204 }));
    const result = await call(ctxFor(), { method: 'DELETE', url: '/users/1' });
    expect(result).toEqual({ state: 'Completed', statusCode: 204, response: null, exception: null });
  });

  it('201 with JSON: the parsed body', async () => {
    reply(201, { json: { id: 'new-1' } });
    const result = await call(ctxFor(), { method: 'POST', url: '/users', body: '{}' });
    expect(result).toEqual({ state: 'Completed', statusCode: 201, response: { id: 'new-1' }, exception: null });
  });

  it('a text answer is returned as text, even when it looks like JSON', async () => {
    reply(200, { body: '42', headers: { 'Content-Type': 'text/plain' } });
    const result = await call(ctxFor(), { method: 'POST', url: '/users', body: '{}' });
    expect(result.response).toBe('42');
  });

  it('JSON without a Content-Type is parsed; invalid JSON stays text', async () => {
    reply(200, { body: '{"a":1}', headers: { 'Content-Type': '' } });
    expect((await call(ctxFor(), { method: 'POST', url: '/users', body: '{}' })).response).toEqual({ a: 1 });
    api.reset();
    reply(200, { body: '{"a":', headers: { 'Content-Type': 'application/json' } });
    expect((await call(ctxFor(), { method: 'POST', url: '/users', body: '{}' })).response).toBe('{"a":');
  });

  it('3xx is Completed with its status and is not followed', async () => {
    api.route('GET', '/api/old', () => ({ status: 302, headers: { Location: `${api.url}/api/new` } }));
    echo('GET', '/api/new');
    const result = await call(ctxFor(), { method: 'GET', url: '/old' });
    expect(result).toEqual({ state: 'Completed', statusCode: 302, response: null, exception: null });
    expect(api.calls('/api/new')).toHaveLength(0);
  });

  it('399 is Completed, 400 is not', async () => {
    api.route('GET', '/api/a', () => ({ status: 399 }));
    api.route('GET', '/api/b', () => ({ status: 400 }));
    expect((await call(ctxFor(), { method: 'GET', url: '/a' })).state).toBe('Completed');
    expect((await call(ctxFor(), { method: 'GET', url: '/b' })).state).toBe('Exception');
  });
});
