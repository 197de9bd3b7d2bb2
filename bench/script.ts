/**
 * Script connector benchmark: a Python script emitting 200,000 rows (8 attributes) through the script
 * connector into the local target, against the same script run alone in the same session.
 *
 *   npm run bench:script                     200,000 rows
 *   npm run bench:script -- --rows 1000000   other sizes
 *
 * (a) the physical limit: `python3 bench/script-rows.py ARGS` by itself (spawned directly, the same argument
 *     set, its output to a file), best of 2: what the script costs before Provisio reads a byte.
 * (b) a scheduled run (runTask) into a fresh LocalTarget and task cache: the script, then its output streamed,
 *     mapped and loaded. Records/s, the wall ratio to (a), this process's peak RSS.
 * (c) the connector alone: the same script through the script extract, the records iterated and dropped,
 *     with the reader's largest buffer (shows the output is streamed: one chunk and one row, not the file).
 * The last line is JSON.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtInConnectorTypes } from '../src/connectors/registry.js';
import { extractScript, HELPER_DIR } from '../src/connectors/script/index.js';
import type { OutputStats } from '../src/connectors/script/output.js';
import { runTask } from '../src/engine/run-task.js';
import { silentLogger } from '../src/log/logger.js';
import type { Connector, Task } from '../src/model/resources.js';
import { LocalSecretResolver } from '../src/secrets/resolver.js';
import { SqliteTaskCache } from '../src/state/sqlite/sqlite-task-cache.js';
import { LocalTarget } from '../src/targets/local/local-target.js';
import { sharedTarget } from '../src/targets/types.js';
import { intOption, RssSampler, round, table } from './lib/measure.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROWS = intOption('--rows', 200_000);
const ATTRIBUTES = ['firstName', 'lastName', 'email', 'department', 'title', 'manager', 'costCenter'];

const connector: Connector = {
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Connector',
  metadata: { name: 'bench-script', namespace: 'bench' },
  spec: { type: 'script', script: { source: { path: 'script-rows.py' }, timeout: '1h', heartbeatTimeout: '5m' } },
};

const task: Task = {
  apiVersion: 'provisio.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'rows', namespace: 'bench' },
  spec: {
    connectorRef: { name: 'bench-script' },
    usage: 'scheduled',
    mappingsType: 'generic',
    schedule: { interval: '1h' },
    source: { script: { uniqueAttribute: 'id', arguments: { rows: ROWS } } },
    mappings: {
      generic: {
        template: 'employee',
        taskIdAttribute: 'task_id',
        onDeleted: { attribute: 'status', value: 'Deleted' },
        attributes: [
          { external: 'id', local: 'employee_id', unique: true },
          ...ATTRIBUTES.map((a) => ({ external: a, local: a.toLowerCase() })),
        ],
      },
    },
  },
};

/** The bench script's own file, as the connector's file would sit next to it. */
const CONNECTOR_FILE = join(HERE, 'script-bench.yaml');

/** (a) the script by itself, spawned directly with the argument set the connector would give it. */
async function alone(): Promise<{ ms: number; rssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'provisio-bench-script-a-'));
  const args = JSON.stringify({
    data_extraction_attributes: [
      { attributeName: 'id', multivalue: false },
      ...ATTRIBUTES.map((a) => ({ attributeName: a, multivalue: false })),
    ],
    script_current_working_directory: dir,
    error_filename: join(dir, 'error.txt'),
    expected_output_filename: join(dir, 'output.json'),
    heartbeat_filename: join(dir, 'heartbeat.txt'),
    log_filename: join(dir, 'script.log'),
    task_arguments: { rows: ROWS },
  });
  const started = performance.now();
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn('python3', [join(HERE, 'script-rows.py'), args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, PYTHONPATH: HELPER_DIR, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(err) : reject(new Error(`script failed: ${err}`))));
  });
  const ms = performance.now() - started;
  rmSync(dir, { recursive: true, force: true });
  return { ms, rssMb: round(Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024) };
}

async function scheduledRun(dir: string) {
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
        secrets: new LocalSecretResolver(undefined, {}),
        log: silentLogger,
        artifactsRoot: join(dir, 'artifacts'),
      },
      {
        task,
        connector,
        connectorFile: CONNECTOR_FILE,
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

async function extractOnly() {
  const stats: OutputStats = { peakBufferedChars: 0, rows: 0 };
  const rss = new RssSampler();
  const started = performance.now();
  let records = 0;
  const extraction = extractScript(
    {
      connector,
      task,
      namespace: 'bench',
      secrets: new LocalSecretResolver(undefined, {}),
      signal: new AbortController().signal,
      log: silentLogger,
      connectorFile: CONNECTOR_FILE,
      mode: 'full',
      cursors: {},
      progress: () => {},
    },
    { outputStats: stats },
  );
  for await (const _ of extraction) records++;
  return { ms: performance.now() - started, records, rss: rss.stop(), stats };
}

async function main(): Promise<void> {
  writeFileSync(CONNECTOR_FILE, '# bench:script: the connector of bench/script.ts lives in memory\n');
  try {
    const a1 = await alone();
    const a2 = await alone();
    const a = a1.ms <= a2.ms ? a1 : a2;
    const c = await extractOnly();
    const dir = mkdtempSync(join(tmpdir(), 'provisio-bench-script-'));
    const b = await scheduledRun(dir);
    rmSync(dir, { recursive: true, force: true });
    const records = b.summary.extract?.records ?? 0;
    if (b.summary.reason !== 'Succeeded') throw new Error(`the run did not succeed: ${b.summary.extract?.info}`);
    const rate = (n: number, ms: number) => String(Math.round(n / (ms / 1000)));
    const rows = [
      [
        '(a) python3 script.py alone',
        String(ROWS),
        String(round(a.ms, 0)),
        rate(ROWS, a.ms),
        '1.00',
        `${a.rssMb} (python)`,
      ],
      [
        '(b) scheduled run (runTask)',
        String(records),
        String(round(b.ms, 0)),
        rate(records, b.ms),
        String(round(b.ms / a.ms, 2)),
        String(b.rss.peakMb),
      ],
      [
        '(c) script extract only',
        String(c.records),
        String(round(c.ms, 0)),
        rate(c.records, c.ms),
        String(round(c.ms / a.ms, 2)),
        String(c.rss.peakMb),
      ],
    ];
    process.stdout.write(
      `script connector: ${ROWS.toLocaleString('en-US')} rows, ${ATTRIBUTES.length + 1} attributes\n`,
    );
    process.stdout.write(`${table(['phase', 'records', 'ms', 'records/s', 'ratio to (a)', 'peak RSS MB'], rows)}\n`);
    process.stdout.write(
      `output reader: largest buffer ${c.stats.peakBufferedChars.toLocaleString('en-US')} characters for ${c.stats.rows.toLocaleString('en-US')} rows (streamed: one chunk and one row)\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        rows: ROWS,
        aloneMs: round(a.ms, 0),
        runMs: round(b.ms, 0),
        runRecordsPerSecond: Math.round(records / (b.ms / 1000)),
        runRatio: round(b.ms / a.ms, 2),
        runPeakRssMb: b.rss.peakMb,
        extractMs: round(c.ms, 0),
        extractRatio: round(c.ms / a.ms, 2),
        extractPeakRssMb: c.rss.peakMb,
        pythonPeakRssMb: a.rssMb,
        readerPeakBufferedChars: c.stats.peakBufferedChars,
      })}\n`,
    );
  } finally {
    rmSync(CONNECTOR_FILE, { force: true });
  }
}

await main();
