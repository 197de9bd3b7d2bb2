/**
 * One phase of the extract benchmark, in its own process so that its peak RSS is its own
 * (bench/extract.ts forks one per phase and reads the result from the IPC channel):
 *
 *   raw     the physical limit: undici request + JSON.parse of every page, sequentially, nothing else
 *   full    runTask with real dependencies (LocalTarget + TaskCache in --state-dir), a fresh cache
 *   rerun   runTask again on the same state dir: nothing changed, so nothing may be written
 *   store   a reference, not a phase of a run: only the SQLite writes of a full run's cards (the local
 *           target's own upsert, in this thread, batches of 500, a fresh file), wall and CPU time taken
 *           around the writes alone; the cards are mapped from the same records outside the clock. No network, no cache,
 *           no artifacts: what storing the cards costs by itself on this machine
 *
 * Modules are imported and the SQLite files opened before the clock starts; the clock covers the work only.
 */

import { join } from 'node:path';
import { request } from 'undici';
import { builtInConnectorTypes } from '../src/connectors/registry.js';
import { compileMapping } from '../src/engine/mapper.js';
import { runTask } from '../src/engine/run-task.js';
import { silentLogger } from '../src/log/logger.js';
import type { TaskMapping, TaskRunSummary } from '../src/model/resources.js';
import { LocalSecretResolver } from '../src/secrets/resolver.js';
import { SqliteTaskCache } from '../src/state/sqlite/sqlite-task-cache.js';
import { CardUpserter, openCardTable } from '../src/targets/local/card-table.js';
import { LocalTarget } from '../src/targets/local/local-target.js';
import { sharedTarget } from '../src/targets/types.js';
import { benchConnector, benchTask, employee, PAGE_SIZE, QUERY, VALUE_MARKER } from './lib/dataset.js';
import { intOption, option, type RssReport, RssSampler } from './lib/measure.js';

/** The engine's default batch size (src/engine/run-task.ts). */
const STORE_BATCH = 500;

export type PhaseName = 'raw' | 'full' | 'rerun' | 'store';

export interface PhaseResult {
  phase: PhaseName;
  records: number;
  wallMs: number;
  /** User + system CPU time of this process during the phase (all its threads). */
  cpuMs: number;
  rss: RssReport;
  apiCalls?: number;
  bytes?: number;
  summary?: TaskRunSummary;
  cards?: number;
  /** How often runTask reported progress (the controller writes status each time). */
  progressCalls?: number;
}

async function raw(baseUrl: string): Promise<Omit<PhaseResult, 'rss' | 'wallMs' | 'cpuMs'>> {
  let records = 0;
  let bytes = 0;
  let calls = 0;
  for (let page = 1; ; page++) {
    const res = await request(`${baseUrl.replace(/\/$/, '')}${QUERY}?page=${page}&size=${PAGE_SIZE}`);
    const text = await res.body.text();
    calls++;
    if (res.statusCode !== 200) throw new Error(`page ${page}: HTTP ${res.statusCode}`);
    bytes += text.length;
    const rows = (JSON.parse(text) as Record<string, unknown[]>)[VALUE_MARKER];
    records += rows.length;
    if (rows.length < PAGE_SIZE) break;
  }
  return { phase: 'raw', records, apiCalls: calls, bytes };
}

async function store(records: number, stateDir: string): Promise<Omit<PhaseResult, 'rss'>> {
  const block = benchTask(records).spec.mappings?.generic as TaskMapping;
  const m = compileMapping(block, [], { taskId: 'bench/bench-employees', connectorType: 'rest' });
  const db = openCardTable(join(stateDir, 'store-only.db'));
  const upserter = new CardUpserter(db);
  let wallMs = 0;
  let cpuSpent = 0;
  try {
    for (let start = 0; start < records; start += STORE_BATCH) {
      const cards: Array<readonly [string, string]> = [];
      for (let i = start; i < Math.min(records, start + STORE_BATCH); i++) {
        const mapped = m.map(JSON.parse(JSON.stringify(employee(i))));
        cards.push([mapped.key as string, mapped.json]);
      }
      const t = performance.now();
      const c = process.cpuUsage();
      upserter.upsert({ template: block.template, folder: block.folder ?? null, cards });
      wallMs += performance.now() - t;
      cpuSpent += cpuMs(c);
    }
  } finally {
    db.close();
  }
  return { phase: 'store', records, wallMs, cpuMs: cpuSpent };
}

async function main(): Promise<void> {
  const phase = option('--phase') as PhaseName;
  const baseUrl = option('--base-url');
  const records = intOption('--records', 100_000);
  const stateDir = option('--state-dir');
  if (!baseUrl || !['raw', 'full', 'rerun', 'store'].includes(phase)) {
    throw new Error('--phase raw|full|rerun|store and --base-url');
  }

  if (phase === 'raw') {
    const rss = new RssSampler(20);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const r = await raw(baseUrl);
    const wallMs = performance.now() - started;
    send({ ...r, wallMs, cpuMs: cpuMs(cpu), rss: rss.stop() });
    return;
  }

  if (!stateDir) throw new Error('--state-dir is required for full, rerun and store');
  if (phase === 'store') {
    const rss = new RssSampler(20);
    send({ ...(await store(records, stateDir)), rss: rss.stop() });
    return;
  }
  const target = new LocalTarget(join(stateDir, 'cards.db'));
  const cache = new SqliteTaskCache(join(stateDir, 'state.db'));
  const task = benchTask(records);
  const connector = benchConnector(baseUrl);
  let progressCalls = 0;
  const rss = new RssSampler(20);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const summary = await runTask(
    // The controller's dependencies (src/controller/controller.ts): default batch size and artifact keeping.
    {
      targets: sharedTarget(target),
      connectorTypes: builtInConnectorTypes,
      cache,
      secrets: new LocalSecretResolver(undefined, {}),
      log: silentLogger,
      artifactsRoot: join(stateDir, 'artifacts'),
    },
    {
      task,
      connector,
      runId: `bench-${phase}-${Date.now()}`,
      trigger: 'manual',
      plannedTime: new Date(),
      signal: new AbortController().signal,
      // The controller writes status on progress; a counter stands in for it.
      onProgress: () => {
        progressCalls++;
      },
    },
  );
  const wallMs = performance.now() - started;
  const cpuSpent = cpuMs(cpu);
  const report = rss.stop();
  const cards = target.templates().find((t) => t.template === 'employee')?.cards ?? 0;
  cache.close();
  await target.close();
  send({
    phase,
    records: summary.extract?.records ?? 0,
    wallMs,
    cpuMs: cpuSpent,
    rss: report,
    apiCalls: summary.extract?.apiCalls,
    summary,
    cards,
    progressCalls,
  });
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

function send(result: PhaseResult): void {
  if (process.send) process.send(result);
  else console.log(JSON.stringify(result));
}

main().then(
  () => {
    if (process.connected) process.disconnect();
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
    if (process.connected) process.disconnect();
  },
);
