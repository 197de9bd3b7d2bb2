/**
 * Microsoft Graph benchmark: a full identityAndAccess run over 50,000 users and 7,000 groups (20 members on
 * average, memberships computed from one members read per group) from the Graph simulator over HTTPS into
 * `local`, then an incremental task: its first delta round, 500 changes, and the incremental run that reads them.
 *
 *   npm run bench:msgraph                                  50,000 users, 7,000 groups
 *   npm run bench:msgraph -- --users 200000 --groups 7000  (peak RSS must stay flat)
 *   npm run bench:msgraph -- --extract-only                the connector alone, first in a fresh process
 *
 * (a) is the physical limit measured in the same run: the same pages (/groups, every /groups/{id}/members, /users,
 * $top=999) read with undici fetch + JSON.parse at the connector's concurrency (4 member reads in flight), with a
 * token from the same endpoint. (b) runTask with the real MSAL and the connector; (c) the incremental task's first
 * round (delta, everything); (d) its run after 500 changes. Reported: records, API calls, throttled calls,
 * ms, records/s, ratio to (a), peak RSS. The last line is JSON.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { extractGraph } from '../src/connectors/msgraph/index.js';
import { builtInConnectorTypes } from '../src/connectors/registry.js';
import { runTask } from '../src/engine/run-task.js';
import { silentLogger } from '../src/log/logger.js';
import type { Connector, Task, TaskMapping } from '../src/model/resources.js';
import { LocalSecretResolver } from '../src/secrets/resolver.js';
import { SqliteTaskCache } from '../src/state/sqlite/sqlite-task-cache.js';
import { LocalTarget } from '../src/targets/local/local-target.js';
import { sharedTarget } from '../src/targets/types.js';
import { flag, intOption, RssSampler, round, table, verdict } from './lib/measure.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const USERS = intOption('--users', 50_000);
const GROUPS = intOption('--groups', 7_000);
const CHANGES = intOption('--changes', 500);
const CONCURRENCY = 4;

interface Source {
  child: ChildProcess;
  port: number;
  caCert: string;
  ask<T>(message: unknown): Promise<T>;
}

async function startSource(): Promise<Source> {
  const child = fork(join(HERE, 'msgraph-source.ts'), ['--users', String(USERS), '--groups', String(GROUPS)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (m) => resolve(m as T));
      child.once('exit', (code) => reject(new Error(`the Graph simulator exited with code ${code}`)));
    });
  const ready = await next<{ port: number; caCert: string }>();
  return {
    child,
    ...ready,
    ask: <T>(message: unknown) => {
      const answer = next<T>();
      child.send(message as never);
      return answer;
    },
  };
}

/** (a) the same pages with fetch + JSON.parse: the physical limit of this machine, process and TLS. */
async function bare(source: Source): Promise<{ ms: number; records: number; calls: number }> {
  const base = `https://localhost:${source.port}`;
  const dispatcher = new Agent({ connect: { ca: source.caCert } });
  const started = performance.now();
  let calls = 0;
  let records = 0;
  const tokenRes = await fetch(`${base}/bench-tenant/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=bench-app&client_secret=bench-s3cret&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default',
  });
  const { access_token: token } = JSON.parse(await tokenRes.text()) as { access_token: string };
  const all = async (first: string): Promise<Array<Record<string, unknown>>> => {
    const out: Array<Record<string, unknown>> = [];
    for (let url: string | undefined = first; url; ) {
      for (;;) {
        const res = await fetch(url, { dispatcher, headers: { Authorization: `Bearer ${token}` } });
        calls++;
        const body = JSON.parse(await res.text()) as {
          value?: Array<Record<string, unknown>>;
          '@odata.nextLink'?: string;
        };
        if (res.status === 429) continue;
        out.push(...(body.value ?? []));
        url = body['@odata.nextLink'];
        break;
      }
    }
    return out;
  };
  const groups = await all(`${base}/v1.0/groups?$select=id,displayName,description,securityEnabled&$top=999`);
  records += groups.length;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < groups.length) await all(`${base}/v1.0/groups/${groups[next++].id}/members?$select=id&$top=999`);
    }),
  );
  records += (
    await all(
      `${base}/v1.0/users?$select=id,userPrincipalName,displayName,givenName,surname,mail,department,jobTitle,employeeId,accountEnabled&$top=999`,
    )
  ).length;
  await dispatcher.close();
  return { ms: performance.now() - started, records, calls };
}

const connector = (source: Source): Connector => ({
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Connector',
  metadata: { name: 'bench-entra', namespace: 'bench' },
  spec: {
    type: 'msgraph',
    msgraph: {
      tenantId: 'bench-tenant',
      clientId: 'bench-app',
      loginUrl: `https://localhost:${source.port}`,
      graphUrl: `https://localhost:${source.port}`,
      tls: { caSecretRef: { name: 'entra-ca', key: 'caCrt' } },
      auth: { type: 'secret', secretRef: { name: 'entra-app' } },
    },
  },
});

const identity = (memberOf: boolean): TaskMapping => ({
  template: 'account',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Deleted' },
  attributes: [
    { external: 'id', local: 'object_id', unique: true },
    { external: 'userPrincipalName', local: 'upn' },
    { external: 'displayName', local: 'display_name' },
    { external: 'givenName', local: 'first_name' },
    { external: 'surname', local: 'last_name' },
    { external: 'mail', local: 'email' },
    { external: 'department', local: 'department' },
    { external: 'jobTitle', local: 'job_title' },
    { external: 'employeeId', local: 'employee_id' },
    { external: 'accountEnabled', local: 'enabled' },
    ...(memberOf ? [{ external: 'memberOf', local: 'member_of', references: 'access' as const }] : []),
  ],
});

const access = (members: boolean): TaskMapping => ({
  template: 'entitlement',
  taskIdAttribute: 'task_id',
  onDeleted: { attribute: 'status', value: 'Removed' },
  attributes: [
    { external: 'id', local: 'object_id', unique: true },
    { external: 'displayName', local: 'display_name' },
    { external: 'description', local: 'description' },
    { external: 'securityEnabled', local: 'security_enabled' },
    ...(members ? [{ external: 'members', local: 'members', references: 'identity' as const }] : []),
  ],
});

const task = (fetchMode: 'full' | 'incremental'): Task => ({
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: `accounts-${fetchMode}`, namespace: 'bench' },
  spec: {
    connectorRef: { name: 'bench-entra' },
    usage: 'scheduled',
    mappingsType: 'identityAndAccess',
    schedule: { interval: '1d' },
    fetch: fetchMode,
    source: { msgraph: {} },
    mappings:
      fetchMode === 'full'
        ? { identity: identity(true), access: access(false) }
        : { identity: identity(false), access: access(true) },
    deletion: { maxFraction: 0.2 },
  },
});

async function scheduledRun(source: Source, secrets: LocalSecretResolver, dir: string, t: Task, runId: string) {
  const target = new LocalTarget(join(dir, 'cards.db'));
  const cache = new SqliteTaskCache(join(dir, 'state.db'));
  const before = await source.ask<{ requests: number; throttled: number }>('requests');
  const rss = new RssSampler();
  const started = performance.now();
  try {
    const summary = await runTask(
      {
        targets: sharedTarget(target),
        connectorTypes: builtInConnectorTypes,
        cache,
        secrets,
        log: silentLogger,
        artifactsRoot: join(dir, 'artifacts'),
      },
      {
        task: t,
        connector: connector(source),
        runId,
        trigger: 'manual',
        plannedTime: new Date(),
        signal: new AbortController().signal,
      },
    );
    const ms = performance.now() - started;
    const after = await source.ask<{ requests: number; throttled: number }>('requests');
    return {
      ms,
      summary,
      rss: rss.stop(),
      calls: summary.extract?.apiCalls ?? 0,
      throttled: after.throttled - before.throttled,
      served: after.requests - before.requests,
    };
  } finally {
    cache.close();
    await target.close();
  }
}

/** (e) the connector alone: the extract's records iterated, nothing mapped or stored. */
async function extractOnly(source: Source, secrets: LocalSecretResolver) {
  const rss = new RssSampler();
  const started = performance.now();
  let records = 0;
  let calls = 0;
  const extraction = extractGraph({
    connector: connector(source),
    task: task('full'),
    namespace: 'bench',
    secrets,
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
  const dir = mkdtempSync(join(tmpdir(), 'provisio-bench-msgraph-'));
  try {
    const secrets = new LocalSecretResolver(undefined, {
      PROVISIO_SECRET_ENTRA_APP_CLIENT_SECRET: 'bench-s3cret',
      PROVISIO_SECRET_ENTRA_CA_CA_CRT: source.caCert,
    });
    if (flag('--extract-only')) {
      // The connector's own memory, measured first in a fresh process: nothing mapped or stored.
      const only = await extractOnly(source, secrets);
      process.stdout.write(`${JSON.stringify({ users: USERS, groups: GROUPS, extractOnly: only })}\n`);
      return;
    }
    const b = await scheduledRun(source, secrets, dir, task('full'), 'full-1');
    const a = await bare(source);
    const c = await scheduledRun(source, secrets, dir, task('incremental'), 'incr-1');
    await source.ask({ changes: CHANGES });
    const d = await scheduledRun(source, secrets, dir, task('incremental'), 'incr-2');
    const e = await extractOnly(source, secrets);
    const rec = (r: typeof b) => r.summary.extract?.records ?? 0;
    const row = (name: string, r: typeof b): string[] => [
      name,
      String(rec(r)),
      String(r.calls),
      String(r.throttled),
      String(round(r.ms, 0)),
      String(Math.round(rec(r) / (r.ms / 1000))),
      String(round(r.ms / a.ms, 2)),
      String(r.rss.peakMb),
    ];
    const rows = [
      [
        '(a) bare fetch + JSON.parse',
        String(a.records),
        String(a.calls),
        '-',
        String(round(a.ms, 0)),
        String(Math.round(a.records / (a.ms / 1000))),
        '1.00',
        '-',
      ],
      row('(b) full run (runTask)', b),
      row('(c) incremental, first round', c),
      row(`(d) incremental, ${CHANGES} changes`, d),
      [
        '(e) Graph extract only',
        String(e.records),
        String(e.calls),
        '-',
        String(round(e.ms, 0)),
        String(Math.round(e.records / (e.ms / 1000))),
        String(round(e.ms / a.ms, 2)),
        String(e.rss.peakMb),
      ],
    ];
    process.stdout.write(
      `Microsoft Graph: ${USERS.toLocaleString('en-US')} users, ${GROUPS.toLocaleString('en-US')} groups (about 20 members each), HTTPS\n`,
    );
    process.stdout.write(
      `${table(['phase', 'records', 'API calls', 'throttled', 'ms', 'records/s', 'ratio', 'peak RSS MB'], rows)}\n`,
    );
    process.stdout.write(
      `(b) ${b.summary.reason}, created ${b.summary.load?.created}; (d) ${d.summary.reason}, updated ${d.summary.load?.updated}, deleted ${d.summary.load?.deleted}\n`,
    );
    process.stdout.write(
      `full run under 60 s: ${verdict(b.ms < 60_000)}; incremental run under 5 s: ${verdict(d.ms < 5_000)}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ users: USERS, groups: GROUPS, changes: CHANGES, bare: a, full: { ms: b.ms, calls: b.calls, throttled: b.throttled, rss: b.rss, extract: b.summary.extract, load: b.summary.load }, firstRound: { ms: c.ms, calls: c.calls, rss: c.rss }, incremental: { ms: d.ms, calls: d.calls, rss: d.rss, load: d.summary.load }, extractOnly: e })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    source.child.send('stop');
  }
}

await main();
