/**
 * LDAP benchmark: 50,000 inetOrgPerson entries in a throwaway slapd (test/peers/slapd.ts), read by
 *   (a) `ldapsearch -E pr=1000/noprompt` (OpenLDAP's own C client, the physical limit here; best of 2), output
 *       discarded;
 *   (a2) the client library alone (ldapts searchPaginated, entries counted; best of 2): the share no connector on
 *       ldapts can avoid;
 *   (b) the LDAP connector's extract alone (records iterated, nothing mapped or stored), pages of 1,000;
 *   (c) a scheduled identity run (runTask) into a fresh LocalTarget and task cache.
 * Same entries, same attributes, same service account, same run. Reported: records/s, the wall ratio against (a)
 * (target for (b): at most 1.3 x), peak RSS. The last line is JSON.
 *
 *   npm run bench:ldap                      50,000 entries
 *   npm run bench:ldap -- --entries 10000   another size
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { extractLdap } from '../src/connectors/ldap/extract.js';
import { builtInConnectorTypes } from '../src/connectors/registry.js';
import { runTask } from '../src/engine/run-task.js';
import { silentLogger } from '../src/log/logger.js';
import type { Connector, Task } from '../src/model/resources.js';
import { LocalSecretResolver } from '../src/secrets/resolver.js';
import { SqliteTaskCache } from '../src/state/sqlite/sqlite-task-cache.js';
import { LocalTarget } from '../src/targets/local/local-target.js';
import { sharedTarget } from '../src/targets/types.js';
import { SERVICE_PASSWORD, type SlapdPeer, startSlapd } from '../test/peers/slapd.js';
import { intOption, RssSampler, round, table, verdict } from './lib/measure.js';

const ENTRIES = intOption('--entries', 50_000);
const PAGE = 1000;
const BASE = 'ou=people,dc=example,dc=org';
const FILTER = '(objectClass=inetOrgPerson)';
const ATTRIBUTES = ['entryUUID', 'uid', 'cn', 'givenName', 'sn', 'mail', 'employeeNumber', 'telephoneNumber'];
const SECRETS = new LocalSecretResolver(undefined, { PROVISIO_SECRET_LDAP_BIND_PASSWORD: SERVICE_PASSWORD });

async function seed(ldap: SlapdPeer): Promise<number> {
  const started = performance.now();
  const chunk = 10_000;
  for (let from = 1; from <= ENTRIES; from += chunk) {
    const out: string[] = [];
    for (let i = from; i < Math.min(from + chunk, ENTRIES + 1); i++) {
      out.push(
        `dn: uid=user${i},${BASE}\nobjectClass: inetOrgPerson\nuid: user${i}\ncn: User ${i}\ngivenName: Given${i}\nsn: Family${i}\nmail: user${i}@example.org\nemployeeNumber: ${100000 + i}\ntelephoneNumber: +358 40 ${String(i).padStart(7, '0')}`,
      );
    }
    await ldap.add(out.join('\n\n'));
  }
  return performance.now() - started;
}

/** (a) ldapsearch with paged results, its LDIF output counted and discarded. */
function ldapsearch(ldap: SlapdPeer): Promise<{ ms: number; records: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const args = ['-x', '-H', ldap.url, '-D', ldap.serviceDn, '-w', SERVICE_PASSWORD, '-E', `pr=${PAGE}/noprompt`];
    const child = spawn('ldapsearch', [...args, '-LLL', '-b', BASE, FILTER, ...ATTRIBUTES], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let records = 0;
    let tail = '';
    child.stdout.on('data', (b: Buffer) => {
      const text = tail + b.toString('latin1');
      records += text.split('\ndn: ').length - 1;
      tail = text.slice(-5);
    });
    const timer = setTimeout(() => child.kill(), 10 * 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`ldapsearch exited with ${code}`));
      else resolve({ ms: performance.now() - started, records: records + 1 });
    });
  });
}

const connector = (ldap: SlapdPeer): Connector => ({
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Connector',
  metadata: { name: 'bench-ldap', namespace: 'bench' },
  spec: {
    type: 'ldap',
    ldap: {
      url: ldap.url,
      bindDn: ldap.serviceDn,
      secretRef: { name: 'ldap-bind' },
      baseDn: ldap.baseDn,
      pageSize: PAGE,
    },
  },
});

const task: Task = {
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'accounts', namespace: 'bench' },
  spec: {
    connectorRef: { name: 'bench-ldap' },
    usage: 'scheduled',
    mappingsType: 'identity',
    schedule: { interval: '1h' },
    fetch: 'full',
    source: { ldap: { usersBaseDn: BASE, usersFilter: FILTER } },
    mappings: {
      identity: {
        template: 'account',
        taskIdAttribute: 'task_id',
        attributes: ATTRIBUTES.map((a) => ({ external: a, local: a.toLowerCase(), unique: a === 'entryUUID' })),
      },
    },
  },
};

/** (a2) the client library alone: ldapts searchPaginated over the same entries, entries counted. */
async function ldaptsOnly(ldap: SlapdPeer): Promise<{ ms: number; records: number }> {
  const client = new Client({ url: ldap.url });
  const started = performance.now();
  let records = 0;
  try {
    await client.bind(ldap.serviceDn, SERVICE_PASSWORD);
    const pages = client.searchPaginated(BASE, {
      scope: 'sub',
      filter: FILTER,
      attributes: ATTRIBUTES,
      paged: { pageSize: PAGE },
    });
    for await (const page of pages) records += page.searchEntries.length;
  } finally {
    await client.unbind();
  }
  return { ms: performance.now() - started, records };
}

async function extractOnly(ldap: SlapdPeer) {
  const rss = new RssSampler();
  const started = performance.now();
  let records = 0;
  const extraction = extractLdap({
    connector: connector(ldap),
    task,
    namespace: 'bench',
    secrets: SECRETS,
    signal: new AbortController().signal,
    log: silentLogger,
    mode: 'full',
    cursors: {},
    progress: () => {},
  });
  for await (const _ of extraction) records++;
  return { ms: performance.now() - started, records, rss: rss.stop() };
}

async function scheduledRun(ldap: SlapdPeer, dir: string) {
  const target = new LocalTarget(join(dir, 'cards.db'));
  const cache = new SqliteTaskCache(join(dir, 'state.db'));
  const rss = new RssSampler();
  const started = performance.now();
  try {
    const summary = await runTask(
      {
        targets: sharedTarget(target),
        connectorTypes: builtInConnectorTypes,
        cache,
        secrets: SECRETS,
        log: silentLogger,
        artifactsRoot: join(dir, 'artifacts'),
      },
      {
        task,
        connector: connector(ldap),
        runId: 'bench-1',
        trigger: 'manual',
        plannedTime: new Date(),
        signal: new AbortController().signal,
      },
    );
    return { ms: performance.now() - started, summary, rss: rss.stop() };
  } finally {
    cache.close();
    await target.close();
  }
}

async function main(): Promise<void> {
  const ldap = await startSlapd({ accesslog: false });
  const dir = mkdtempSync(join(tmpdir(), 'provisio-bench-ldap-'));
  try {
    const seedMs = await seed(ldap);
    const raws = [await ldapsearch(ldap), await ldapsearch(ldap)];
    const a = raws.reduce((x, y) => (y.ms < x.ms ? y : x));
    const a2s = [await ldaptsOnly(ldap), await ldaptsOnly(ldap)];
    const a2 = a2s.reduce((x, y) => (y.ms < x.ms ? y : x));
    const b = await extractOnly(ldap);
    const c = await scheduledRun(ldap, dir);
    const cRecords = c.summary.extract?.records ?? 0;
    const row = (name: string, records: number, ms: number, rss: string) => [
      name,
      String(records),
      String(round(ms, 0)),
      String(Math.round(records / (ms / 1000))),
      String(round(ms / a.ms, 2)),
      rss,
    ];
    const rows = [
      row(`(a) ldapsearch -E pr=${PAGE}/noprompt`, a.records, a.ms, '-'),
      row('(a2) ldapts searchPaginated alone', a2.records, a2.ms, '-'),
      row('(b) LDAP extract only', b.records, b.ms, String(b.rss.peakMb)),
      row('(c) scheduled run (runTask)', cRecords, c.ms, String(c.rss.peakMb)),
    ];
    process.stdout.write(
      `LDAP: ${ENTRIES.toLocaleString('en-US')} entries in slapd (seeded in ${round(seedMs / 1000, 1)} s), pages of ${PAGE}, ${ATTRIBUTES.length} attributes\n`,
    );
    process.stdout.write(`${table(['phase', 'records', 'ms', 'records/s', 'ratio', 'peak RSS MB'], rows)}\n`);
    const ratio = b.ms / a.ms;
    process.stdout.write(
      `(b) against (a): ${round(ratio, 2)} x, target at most 1.3 x: ${verdict(ratio <= 1.3)}; (c) extract ${c.summary.extract?.status}, load ${c.summary.load?.status} (created ${c.summary.load?.created})\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ entries: ENTRIES, page: PAGE, ldapsearch: a, ldapts: a2, extractOnly: b, run: { ms: c.ms, records: cRecords, rss: c.rss, load: c.summary.load }, ratio })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await ldap.stop();
  }
}

await main();
