/**
 * The M42 connector's activities end to end: a controller runtime serving the invoke endpoint over HTTP, an
 * event task on an M42 connector, acting on the other instance (the simulated REST API over HTTPS).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkM42Connection } from '../../../src/connectors/m42/index.js';
import type { Connector } from '../../../src/model/resources.js';
import { LocalSecretResolver } from '../../../src/secrets/resolver.js';
import { TokenAuth } from '../../../src/server/auth.js';
import { type ServedRuntime, startServedRuntime } from '../../../src/server/serve.js';
import { postInvoke } from '../../invocations/invoke-client.js';
import { captureLogger } from '../../peers/log-capture.js';
import { partnerConnector, REMOTE_PASSWORD, type Remote, startRemote } from './helpers.js';

const TOKEN = 'invoke-token-m42-51a';
let remote: Remote;
let runtime: ServedRuntime;
let dir: string;
let base: string;
const logs = captureLogger('debug');

const eventTask = (name: string, connectorName = 'partner-itsm') => `---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: ${name}, namespace: iga}
spec:
  connectorRef: {name: ${connectorName}}
  usage: event
  mappingsType: generic
  source: {m42: {templateCode: incident, folderCode: escalated_from_acme}}
  event: {timeout: 5s, dateFormat: dd.MM.yyyy, dateTimeFormat: "yyyy-MM-dd'T'HH:mm:ssXXX"}
  mappings:
    generic:
      template: incident
      attributes:
        - {external: acme_incident_id, local: efecte_id, unique: true}
        - {external: subject, local: subject}
        - {external: priority, local: priority}
        - {external: origin_system, local: origin_system}
        - {external: resolved_date, local: resolved}
`;

const invoke = (activity: string, data: Record<string, unknown>, task = 'escalate') =>
  postInvoke(base, { namespace: 'iga', name: task }, TOKEN, { activity, input: {}, data });

beforeAll(async () => {
  remote = await startRemote();
  dir = mkdtempSync(join(tmpdir(), 'provisio-m42-activities-'));
  const readOnly = partnerConnector(remote.api.url, 'reader-user').replace(
    'name: partner-itsm',
    'name: partner-readonly',
  );
  writeFileSync(
    join(dir, 'partner.yaml'),
    `${partnerConnector(remote.api.url)}${eventTask('escalate')}---\n${readOnly}${eventTask('escalate-readonly', 'partner-readonly')}`,
  );
  runtime = await startServedRuntime({
    dir,
    stateDir: join(dir, 'state'),
    log: logs.log,
    secrets: new LocalSecretResolver(undefined, {
      ...remote.secretsEnv,
      PROVISIO_SECRET_READER_USER_USERNAME: 'reader',
      PROVISIO_SECRET_READER_USER_PASSWORD: 'reader-pw-1',
    }),
    listen: '127.0.0.1:0',
    auth: new TokenAuth([TOKEN]),
    checkConnections: false,
  });
  base = `http://127.0.0.1:${runtime.address!.port}`;
});

afterAll(async () => {
  await runtime.close();
  await remote.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  remote.api.reset();
  logs.clear();
});

const remoteCard = (acmeId: string) =>
  remote.api
    .cards('incident', { includeDeleted: true })
    .find((c) => JSON.stringify(c.data?.acme_incident_id ?? {}).includes(`"${acmeId}"`));

describe('M42 event activities', () => {
  it('createDataCard writes the mapped attributes into the task folder, dates in the task format', async () => {
    const res = await invoke('createDataCard', {
      efecte_id: 'ACME-1',
      subject: 'VPN "down"',
      priority: '1 - Critical',
      origin_system: 'acme',
      resolved: '2026-11-30T08:15:00Z',
      not_mapped: 'ignored',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 201, exception: null });
    const card = remoteCard('ACME-1');
    expect(card?.folderCode).toBe('escalated_from_acme');
    expect(res.body.response.dataCardId).toBe(card?.dataCardId);
    expect(card?.data?.subject.values).toEqual([{ value: 'VPN "down"' }]);
    expect(card?.data?.priority.values[0]).toMatchObject({ value: '1 - Critical' });
    expect(card?.data?.resolved_date.values).toEqual([{ value: '2026-11-30T08:15:00Z' }]);
    expect(card?.data).not.toHaveProperty('not_mapped');
  });

  it('updateDataCard finds the remote card by the unique mapping and patches what data carries', async () => {
    await invoke('createDataCard', { efecte_id: 'ACME-2', subject: 'old', priority: '3 - Normal' });
    const res = await invoke('updateDataCard', { efecte_id: 'ACME-2', subject: 'new' });
    expect(res.body).toMatchObject({ state: 'Completed', statusCode: 200 });
    const card = remoteCard('ACME-2');
    expect(card?.data?.subject.values).toEqual([{ value: 'new' }]);
    expect(card?.data?.priority.values[0]).toMatchObject({ value: '3 - Normal' });
    const missing = await invoke('updateDataCard', { efecte_id: 'ACME-404', subject: 'x' });
    expect(missing.body).toMatchObject({ state: 'Exception', statusCode: 404 });
    expect(missing.body.exception).toBe('no incident card with acme_incident_id = ACME-404');
  });

  it('deleteDataCard moves the card to the trash; a card already there is Completed with a note', async () => {
    await invoke('createDataCard', { efecte_id: 'ACME-3', subject: 'bye' });
    const first = await invoke('deleteDataCard', { efecte_id: 'ACME-3' });
    expect(first.body).toMatchObject({ state: 'Completed', response: { note: 'moved to the trash' } });
    expect(remoteCard('ACME-3')?.deleted).toBe(true);
    const again = await invoke('deleteDataCard', { efecte_id: 'ACME-3' });
    expect(again.body.state).toBe('Completed');
    expect(again.body.response.note).toContain('already in the trash');
  });

  it('a value the API refuses is an Exception with its words; a user without write rights gets the 403', async () => {
    const res = await invoke('createDataCard', { efecte_id: 'ACME-4', priority: '9 - Whenever' });
    expect(res.body.state).toBe('Exception');
    expect(res.body.exception).toContain("Couldn't find static-value with value: 9 - Whenever");
    const forbidden = await invoke('createDataCard', { efecte_id: 'ACME-5', subject: 'x' }, 'escalate-readonly');
    expect(forbidden.body).toMatchObject({ state: 'Exception', statusCode: 403 });
    expect(forbidden.body.exception).toContain('User is forbidden to update the resource');
  });

  it('a data without the unique attribute is a 400 naming it', async () => {
    const res = await invoke('updateDataCard', { subject: 'x' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('data.efecte_id is required');
  });

  it('never sends a create twice, and keeps the password out of logs', async () => {
    remote.api.fault({ method: 'POST', path: /\/dc\/incident\/data$/, status: 502, times: 1 });
    const res = await invoke('createDataCard', { efecte_id: 'ACME-6', subject: 'once' });
    expect(res.body.state).toBe('Exception');
    expect(remote.api.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/dc/incident/data'))).toHaveLength(
      1,
    );
    expect(logs.text()).not.toContain(REMOTE_PASSWORD);
  });
});

describe('M42 test-connection', () => {
  const connector = (secret: string) => parse(partnerConnector(remote.api.url, secret)) as Connector;
  const ctx = (secret: string, env: Record<string, string>) => ({
    connector: connector(secret),
    namespace: 'iga',
    secrets: new LocalSecretResolver(undefined, env),
    signal: new AbortController().signal,
    log: logs.log,
  });

  it('uses /echo and /echo/jwt', async () => {
    const ok = await checkM42Connection(ctx('partner-api-user', remote.secretsEnv));
    expect(ok.ok).toBe(true);
    expect(ok.message).toContain('/echo answered');
    const paths = remote.api.requests.map((r) => r.path);
    expect(paths.some((p) => p.endsWith('/echo'))).toBe(true);
    expect(paths.some((p) => p.endsWith('/echo/jwt'))).toBe(true);
  });

  it('a wrong password names the user and hides the password', async () => {
    const bad = await checkM42Connection(
      ctx('partner-api-user', { ...remote.secretsEnv, PROVISIO_SECRET_PARTNER_API_USER_PASSWORD: 'wrong-pw-777' }),
    );
    expect(bad.ok).toBe(false);
    expect(bad.message).toContain('refused the login of WebAPI user "svc-partner"');
    expect(bad.message).not.toContain('wrong-pw-777');
  });
});
