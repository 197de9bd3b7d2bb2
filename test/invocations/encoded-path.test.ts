/**
 * Encoded dot segments and slashes (`%2e`, `%2f`, any case) in the path of a call's URL template are refused
 * with 400 before anything is sent; values substituted from `data` stay percent-encoded data, and the query
 * string may carry encoded slashes as values. A task whose event.query has them is invalid: `provisio validate`
 * names file, line and field, and an invocation of it is refused. The endpoint end to end, on a counting upstream.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { typeRules } from '../../src/connectors/registry.js';
import { TokenAuth } from '../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../src/server/serve.js';
import { validatePaths } from '../../src/validation/validate.js';
import { captureLogger } from '../peers/log-capture.js';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { postInvoke } from './invoke-client.js';

const TOKEN = 'encoded-path-token';
let upstream: RestFixtureServer;
let runtime: ServedRuntime;
let dir: string;

const resources = (url: string) => `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api, namespace: iga}
spec:
  type: rest
  rest: {baseUrl: ${url}/api, auth: {type: none}, pagination: {type: none}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-users, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: event
  event: {query: /users, timeout: 5s}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-escape, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: event
  event: {query: "/users/..%2f..%2Foauth/token", timeout: 5s}
`;

const invoke = (name: string, body: unknown) =>
  postInvoke(`http://127.0.0.1:${runtime.address!.port}`, { namespace: 'iga', name }, TOKEN, body);

beforeAll(async () => {
  upstream = await RestFixtureServer.start();
  dir = mkdtempSync(join(tmpdir(), 'provisio-encoded-'));
  writeFileSync(join(dir, 'hr.yaml'), resources(upstream.url));
  runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    log: captureLogger('warn').log,
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
  upstream.route('GET', '/api/users/:id', (req, p) => ({ json: { id: p.id, url: req.url } }));
});

describe('encoded dots and slashes in URL templates', () => {
  it.each(['/..%2f..%2foauth/token', '/%2E%2E/%2e%2e/admin', '/a%2Fb', '/.%2e/x'])(
    'refuses input.url %s with 400 and calls nothing',
    async (url) => {
      const answer = await invoke('hr-users', { activity: 'restCall', input: { method: 'GET', url } });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatch(/^input\.url contains %2[eEfF] \(an encoded "[./]"\) in its path; /);
      expect(upstream.requests).toHaveLength(0);
    },
  );

  it('keeps values from data percent-encoded, and encoded slashes in the query string', async () => {
    const answer = await invoke('hr-users', {
      activity: 'restCall',
      input: { method: 'GET', url: '/$id$?next=%2Fhome' },
      data: { id: '../../oauth/token' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.response).toEqual({
      id: '../../oauth/token',
      url: '/api/users/..%2F..%2Foauth%2Ftoken?next=%2Fhome',
    });
  });

  it('names file, line and field of an encoded event.query at validation; the task cannot be invoked', async () => {
    const result = await validatePaths([join(dir, 'hr.yaml')], { types: typeRules });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => `${d.line}:${d.col} ${d.field}`)).toEqual(['22:18 spec.event.query']);
    expect(errors[0].message).toMatch(/^contains %2f \(an encoded "\/"\) in its path; /);
    const answer = await invoke('hr-escape', { activity: 'restCall', input: { method: 'GET', url: '/1' } });
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatch(/^Task iga\/hr-escape is invalid: contains %2f/);
    expect(upstream.requests).toHaveLength(0);
  });
});
