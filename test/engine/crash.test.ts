/**
 * A controller killed with SIGKILL in the middle of a load, then restarted, must leave every source
 * record as exactly one card, and record the cut-off run as failed (interrupted).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestFixtureServer } from '../peers/rest-fixture.js';
import { employees } from './helpers.js';

const ROWS = 600;
let server: RestFixtureServer;
let dir: string;

beforeAll(async () => {
  server = await RestFixtureServer.start();
  server.collection('/employees', employees(ROWS), { paging: 'page' });
  dir = mkdtempSync(join(tmpdir(), 'provisio-crash-'));
  writeFileSync(
    join(dir, 'hr.yaml'),
    `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api, namespace: iga}
spec:
  type: rest
  rest: {baseUrl: "${server.url}", pagination: {type: pageIncrement, pageSize: 20}}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-employees, namespace: iga}
spec:
  connectorRef: {name: hr-api}
  usage: scheduled
  schedule: {interval: 1h}
  source: {rest: {query: /employees, safetyThreshold: 1000}}
  mappings:
    generic:
      template: employee
      taskIdAttribute: task_id
      onDeleted: {attribute: status, value: Deleted}
      attributes:
        - {external: id, local: employee_id, unique: true}
        - {external: "name['first-name']", local: first_name}
`,
  );
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function runOnce(): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'run', '--dir', dir, '--state-dir', join(dir, 'state'), '--once'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PROVISIO_LOG_LEVEL: 'warn' } },
  );
}

const exited = (p: ChildProcess) =>
  new Promise<number | null>((resolve) => p.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));

function cards(): Array<{ key: string; data: string }> {
  const db = new Database(join(dir, 'state', 'cards.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT key, data FROM cards WHERE template = 'employee'").all() as Array<{
      key: string;
      data: string;
    }>;
  } finally {
    db.close();
  }
}

describe('a crash during a load', () => {
  it('leaves no duplicate and no missing card after a restart', async () => {
    // The pages after the first batch of 500 cards are slow, so the run is certainly between its first
    // and its last batch (500 cards written, 100 to come) when the kill comes.
    server.fault(
      (r) => r.path === '/employees' && Number(r.query.get('page')) > 25,
      ...Array.from({ length: 10 }, () => ({ kind: 'delay' as const, ms: 1000 })),
    );
    const first = runOnce();
    const deadline = Date.now() + 30_000;
    let loaded = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        loaded = cards().length;
      } catch {
        loaded = 0; // the database does not exist yet
      }
      if (loaded >= 100) break;
    }
    expect(loaded).toBeGreaterThanOrEqual(100);
    expect(loaded).toBeLessThan(ROWS);
    first.kill('SIGKILL');
    expect(await exited(first)).toBe(-1);
    // The restart reads at full speed.
    server.reset();
    server.collection('/employees', employees(ROWS), { paging: 'page' });

    const second = runOnce();
    expect(await exited(second)).toBe(0);

    const after = cards();
    const keys = after.map((c) => c.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(
      employees(ROWS)
        .map((e) => e.id)
        .sort(),
    );
    // Nothing was marked deleted: the interrupted run never reached deletion marking.
    expect(after.filter((c) => JSON.parse(c.data).status === 'Deleted')).toHaveLength(0);

    const status = JSON.parse(
      (await import('node:fs')).readFileSync(
        join(dir, 'state', 'resources', 'Task', 'iga', 'hr-employees.json'),
        'utf8',
      ),
    ).status;
    expect(status.history).toHaveLength(2);
    expect(status.history[0].extract.status).toBe('Succeeded');
    expect(status.history[0].load.status).toBe('Succeeded');
    expect(status.history[1].extract.status).toBe('Failed');
    expect(status.history[1].extract.info).toMatch(/^interrupted: the controller stopped during this run/);
    expect(status.history[1].load.info).toMatch(/deletion marking skipped$/);
  }, 90_000);
});
