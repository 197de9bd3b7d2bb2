/**
 * SCIM benchmark: a scheduled identityAndAccess run over 20,000 users and 1,000 groups (pages of 200), against
 * bare fetch + JSON.parse of the same pages in the same process and the same session.
 *
 *   npm run bench:scim                                  20,000 users, 1,000 groups
 *   npm run bench:scim -- --users 50000 --groups 2000   other sizes
 *
 * The source (bench/scim-source.ts) runs in its own process and serves pre-rendered pages. (a) is the bare
 * read (best of 2): every page of /Groups and /Users with undici fetch and JSON.parse; (b) is runTask into a
 * fresh LocalTarget and task cache: the SCIM connector with Basic auth, 9 identity attributes (enterprise
 * extension, `groups[*].value` computed from the groups' members, `references: access`) and 3 access
 * attributes; (c) the same run again on the same state (the cache skips every record: no card writes). Reported:
 * records/s, API calls, the wall ratio against (a), peak RSS; (d) the SCIM extract alone (records iterated, nothing
 * mapped or stored), which is the connector's share. The last line is JSON.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtInConnectorTypes } from '../src/connectors/registry.js';
import { extractScim } from '../src/connectors/scim/index.js';
import { runTask } from '../src/engine/run-task.js';
import { silentLogger } from '../src/log/logger.js';
import type { Connector, Task } from '../src/model/resources.js';
import { LocalSecretResolver } from '../src/secrets/resolver.js';
import { SqliteTaskCache } from '../src/state/sqlite/sqlite-task-cache.js';
import { LocalTarget } from '../src/targets/local/local-target.js';
import { sharedTarget } from '../src/targets/types.js';
import { intOption, RssSampler, round, table } from './lib/measure.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const USERS = intOption('--users', 20_000);
const GROUPS = intOption('--groups', 1_000);
const PAGE = 200;
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SECRETS = new LocalSecretResolver(undefined, {
  PROVISIO_SECRET_IDP_USERNAME: 'bench',
  PROVISIO_SECRET_IDP_PASSWORD: 'bench-pa55',
});
const AUTH = `Basic ${Buffer.from('bench:bench-pa55').toString('base64')}`;

async function startSource(): Promise<{ child: ChildProcess; port: number; renderMs: number }> {
  const child = fork(
    join(HERE, 'scim-source.ts'),
    ['--users', String(USERS), '--groups', String(GROUPS), '--page', String(PAGE)],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const ready = await new Promise<{ port: number; renderMs: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; renderMs: number }));
    child.once('exit', (code) => reject(new Error(`the SCIM source exited with code ${code}`)));
  });
  return { child, ...ready };
}

/** (a) every page of /Groups and /Users, sequentially, with fetch and JSON.parse. */
async function bare(port: number): Promise<{ ms: number; records: number; calls: number }> {
  const started = performance.now();
  let records = 0;
  let calls = 0;
  for (const path of ['/Groups', '/Users']) {
    for (let start = 1; ; ) {
      const res = await fetch(`http://127.0.0.1:${port}/scim/v2${path}?startIndex=${start}&count=${PAGE}`, {
        headers: { Authorization: AUTH, Accept: 'application/scim+json' },
      });
      calls++;
      const body = JSON.parse(await res.text()) as { totalResults: number; Resources: unknown[] };
      records += body.Resources.length;
      start += body.Resources.length;
      if (body.Resources.length === 0 || start > body.totalResults) break;
    }
  }
  return { ms: performance.now() - started, records, calls };
}

const connector = (port: number): Connector => ({
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Connector',
  metadata: { name: 'bench-idp', namespace: 'bench' },
  spec: {
    type: 'scim',
    scim: {
      host: '127.0.0.1',
      port,
      pageSize: PAGE,
      tls: { enabled: false },
      auth: { type: 'basic', secretRef: { name: 'idp' } },
    },
  },
});

const task: Task = {
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'accounts', namespace: 'bench' },
  spec: {
    connectorRef: { name: 'bench-idp' },
    usage: 'scheduled',
    mappingsType: 'identityAndAccess',
    schedule: { interval: '1h' },
    fetch: 'full',
    source: { scim: {} },
    mappings: {
      identity: {
        template: 'account',
        taskIdAttribute: 'task_id',
        onDeleted: { attribute: 'status', value: 'Deleted' },
        attributes: [
          { external: 'id', local: 'scim_id', unique: true },
          { external: 'userName', local: 'user_name' },
          { external: 'name.givenName', local: 'first_name' },
          { external: 'name.familyName', local: 'last_name' },
          { external: 'emails.0.value', local: 'email' },
          { external: 'active', local: 'active' },
          { external: `['${ENTERPRISE}'].employeeNumber`, local: 'employee_id' },
          { external: `['${ENTERPRISE}'].department`, local: 'department' },
          { external: 'groups[*].value', local: 'member_of', references: 'access' },
        ],
      },
      access: {
        template: 'entitlement',
        taskIdAttribute: 'task_id',
        onDeleted: { attribute: 'status', value: 'Removed' },
        attributes: [
          { external: 'id', local: 'scim_id', unique: true },
          { external: 'displayName', local: 'display_name' },
          { external: 'members[*].value', local: 'members' },
        ],
      },
    },
    deletion: { maxFraction: 0.2 },
  },
};

async function scheduledRun(port: number, dir: string, runId: string) {
  const target = new LocalTarget(join(dir, 'cards.db'));
  const cache = new SqliteTaskCache(join(dir, 'state.db'));
  let calls = 0;
  const rss = new RssSampler();
  const started = performance.now();
  try {
    const summary = await runTask(
      {
        targets: sharedTarget(target),
        connectorTypes: builtInConnectorTypes,
        cache,
        secrets: new LocalSecretResolver(undefined, {
          PROVISIO_SECRET_IDP_USERNAME: 'bench',
          PROVISIO_SECRET_IDP_PASSWORD: 'bench-pa55',
        }),
        log: silentLogger,
        artifactsRoot: join(dir, 'artifacts'),
      },
      {
        task,
        connector: connector(port),
        runId,
        trigger: 'manual',
        plannedTime: new Date(),
        signal: new AbortController().signal,
        onProgress: (s) => {
          calls = s.extract?.apiCalls ?? calls;
        },
      },
    );
    return { ms: performance.now() - started, summary, rss: rss.stop(), calls };
  } finally {
    cache.close();
    await target.close();
  }
}

/** (d) the connector alone: the extract's records iterated, nothing mapped or stored. */
async function extractOnly(port: number) {
  const rss = new RssSampler();
  const started = performance.now();
  let records = 0;
  let calls = 0;
  const extraction = extractScim({
    connector: connector(port),
    task,
    namespace: 'bench',
    secrets: SECRETS,
    signal: new AbortController().signal,
    log: silentLogger,
    mode: 'full',
    cursors: {},
    progress: (p) => {
      calls = p.apiCalls;
    },
  });
  for await (const _ of extraction) records++;
  return { ms: performance.now() - started, records, calls, rss: rss.stop() };
}

async function main(): Promise<void> {
  const source = await startSource();
  try {
    const raws = [await bare(source.port), await bare(source.port)];
    const a = raws.reduce((x, y) => (y.ms < x.ms ? y : x));
    const d = await extractOnly(source.port);
    const dir = mkdtempSync(join(tmpdir(), 'provisio-bench-scim-'));
    const b = await scheduledRun(source.port, dir, 'bench-1');
    const c = await scheduledRun(source.port, dir, 'bench-2');
    rmSync(dir, { recursive: true, force: true });
    const records = b.summary.extract?.records ?? 0;
    const rows = [
      [
        '(a) bare fetch + JSON.parse',
        String(a.records),
        String(a.calls),
        String(round(a.ms, 0)),
        String(Math.round(a.records / (a.ms / 1000))),
        '1.00',
        '-',
      ],
      [
        '(b) scheduled run (runTask)',
        String(records),
        String(b.calls),
        String(round(b.ms, 0)),
        String(Math.round(records / (b.ms / 1000))),
        String(round(b.ms / a.ms, 2)),
        String(b.rss.peakMb),
      ],
      [
        '(c) unchanged rerun (0 writes)',
        String(c.summary.extract?.records ?? 0),
        String(c.calls),
        String(round(c.ms, 0)),
        String(Math.round((c.summary.extract?.records ?? 0) / (c.ms / 1000))),
        String(round(c.ms / a.ms, 2)),
        String(c.rss.peakMb),
      ],
      [
        '(d) SCIM extract only',
        String(d.records),
        String(d.calls),
        String(round(d.ms, 0)),
        String(Math.round(d.records / (d.ms / 1000))),
        String(round(d.ms / a.ms, 2)),
        String(d.rss.peakMb),
      ],
    ];
    process.stdout.write(
      `SCIM: ${USERS.toLocaleString('en-US')} users, ${GROUPS.toLocaleString('en-US')} groups, pages of ${PAGE}\n`,
    );
    process.stdout.write(`${table(['phase', 'records', 'calls', 'ms', 'records/s', 'ratio', 'peak RSS MB'], rows)}\n`);
    process.stdout.write(
      `(b) extract ${b.summary.extract?.status}, load ${b.summary.load?.status} (created ${b.summary.load?.created}); (c) unchanged ${c.summary.load?.unchanged}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ users: USERS, groups: GROUPS, page: PAGE, bare: a, run: { ms: b.ms, records, calls: b.calls, rss: b.rss, extract: b.summary.extract, load: b.summary.load }, rerun: { ms: c.ms, calls: c.calls, rss: c.rss, load: c.summary.load }, extractOnly: d })}\n`,
    );
  } finally {
    source.child.send('stop');
  }
}

await main();
