/**
 * examples/script/: the resources of hr-csv.yaml as written, and scripts/hr.py unchanged, with real python3:
 * the nightly CSV export loaded as person cards, and the event task PUTting a change to a real HTTP server.
 */

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { scriptConnector as scriptType } from '../../../src/connectors/script/index.js';
import { runTask } from '../../../src/engine/run-task.js';
import type { Connector, Task } from '../../../src/model/resources.js';
import { captureLogger } from '../../peers/log-capture.js';
import { type ScriptLab, scriptLab } from './helpers.js';

const EXAMPLE = resolve('examples/script/hr-csv.yaml');
const PASSWORD = 'hr-import-S3cret';

function example(): { connector: Connector; scheduled: Task; event: Task } {
  const docs = parseAllDocuments(readFileSync(EXAMPLE, 'utf8')).map((d) => d.toJS() as Connector | Task);
  const connector = docs.find((d) => d.kind === 'Connector') as Connector;
  const tasks = docs.filter((d) => d.kind === 'Task') as Task[];
  return {
    connector,
    scheduled: tasks.find((t) => t.spec.usage === 'scheduled')!,
    event: tasks.find((t) => t.spec.usage === 'event')!,
  };
}

let lab: ScriptLab;
let capture: ReturnType<typeof captureLogger>;
let server: Server;
let requests: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
let answer = 204;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(async () => {
  capture = captureLogger('debug');
  lab = await scriptLab(capture.log, { graceMs: 300 }, { 'legacy-hr-script-params': { password: PASSWORD } });
  requests = [];
  answer = 204;
});
afterEach(() => lab.close());

describe('examples/script: the nightly HR export', () => {
  it('runs hr.py unchanged: one person card per CSV row, cost centres as a list', async () => {
    const { connector, scheduled } = example();
    const exports = join(lab.dir, 'exports');
    lab.script(
      'exports/employees_20261203.csv',
      'objectGUID;employeeNumber;firstName;lastName;email;department;managerEmployeeNumber;startDate;costCenters\n' +
        'g-1;E1;Aino;Virtanen;aino@example.com;IT;;2020-01-01;CC1|CC2\n' +
        'g-2;E2;Eino;Korhonen;eino@example.com;HR;E1;2021-06-01;CC3\n',
    );
    connector.spec.script!.parameters = { ...connector.spec.script!.parameters, export_directory: exports };
    const run = await runTask(lab.fx.deps, {
      task: scheduled,
      connector,
      connectorFile: EXAMPLE,
      runId: 'r1',
      trigger: 'manual',
      plannedTime: new Date(),
      signal: new AbortController().signal,
    });
    expect(run.reason).toBe('Succeeded');
    expect(run.load).toMatchObject({ created: 2 });
    const cards = new Map((await lab.fx.cards('person')).map((c) => [c.hr_guid, c]));
    expect(cards.get('g-1')).toMatchObject({
      employee_id: 'E1',
      first_name: 'Aino',
      email: 'aino@example.com',
      cost_centers: ['CC1', 'CC2'],
      source_type: 'script',
      task_id: 'iga/legacy-hr-employees',
    });
    expect(cards.get('g-2')).toMatchObject({ manager_employee_id: 'E1', cost_centers: ['CC3'] });
    expect(capture.text()).toContain('script: ');
    expect(capture.text()).toContain('creating output with 2 rows');
  });

  it('two export files: the error file is the failure, nothing is marked', async () => {
    const { connector, scheduled } = example();
    const exports = join(lab.dir, 'exports');
    lab.script('exports/employees_1.csv', 'objectGUID\n');
    lab.script('exports/employees_2.csv', 'objectGUID\n');
    connector.spec.script!.parameters = { ...connector.spec.script!.parameters, export_directory: exports };
    const run = await runTask(lab.fx.deps, {
      task: scheduled,
      connector,
      connectorFile: EXAMPLE,
      runId: 'r2',
      trigger: 'manual',
      plannedTime: new Date(),
      signal: new AbortController().signal,
    });
    expect(run.reason).toBe('ExtractFailed');
    expect(run.extract?.info).toMatch(
      /^the script exited with code 1: expected exactly one HR export file matching .*, found 2;/,
    );
  });
});

describe('examples/script: the event task', () => {
  const call = (connector: Connector, task: Task, data: Record<string, unknown>) =>
    scriptType.actions!.runScript(
      {
        connector,
        task,
        namespace: 'iga',
        secrets: lab.secrets.resolver,
        signal: new AbortController().signal,
        log: capture.log,
        connectorFile: EXAMPLE,
      },
      {},
      data,
    );

  it('PUTs the mapped attributes to the HR import with the secret as the bearer token', async () => {
    const { connector, event } = example();
    connector.spec.script!.parameters!.host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const result = await call(connector, event, {
      employee_id: 'E1',
      email: 'new@example.com',
      mobile_phone: '+358 1',
    });
    expect(result).toEqual({ state: 'Completed', response: 'HR import answered 204 for employee E1', exception: null });
    expect(requests.map((r) => ({ ...r, body: JSON.parse(r.body) }))).toEqual([
      {
        method: 'PUT',
        url: '/import/employees/E1',
        auth: `Bearer ${PASSWORD}`,
        body: { employeeNumber: 'E1', email: 'new@example.com', phone: '+358 1' },
      },
    ]);
  });

  it('an HR import error is an Exception with its message', async () => {
    const { connector, event } = example();
    connector.spec.script!.parameters!.host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    answer = 500;
    expect(await call(connector, event, { employee_id: 'E1' })).toEqual({
      state: 'Exception',
      response: null,
      exception: 'HTTP Error 500: Internal Server Error',
    });
    expect(await call(connector, event, { email: 'x@example.com' })).toMatchObject({
      state: 'Exception',
      exception: 'employeeNumber is empty: nothing to update',
    });
  });
});
