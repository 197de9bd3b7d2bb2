/**
 * Extract benchmark: how close a scheduled REST task run comes to the physical limit of the machine.
 *
 *   npm run bench:extract                         100,000 records (pages of 1,000, pageIncrement, marker `items`)
 *   npm run bench:extract -- --records 250000     another size
 *   npm run bench:extract -- --compare-1m         also 1,000,000 records, and the RSS growth between the two
 *   npm run bench:extract -- --keep               keep the temp state dirs (cards.db, state.db, artifacts)
 *
 * Set-up and method:
 * - The source (bench/source-server.ts) runs in a separate process, so that it uses the other core; it
 *   renders its pages before it reports ready and serves them from memory, so that the source is not the
 *   bottleneck and the figures are the client's (its CPU use is printed).
 * - Every phase runs in a fresh child process (bench/extract-phase.ts), so that the peak RSS of a phase is
 *   its own and not a leftover of the previous one, and the JIT starts cold for each alike. RSS is sampled
 *   every 20 ms in that process (process.memoryUsage.rss) and the kernel's maxRSS is reported beside it;
 *   "RSS at start" is the process after imports (Node + tsx + the modules), before the work. Beside wall time,
 *   the phase's CPU time (user + system, all threads of the process) is reported: on a shared machine it
 *   moves less than wall time when other processes compete for the cores.
 *     (a) physical limit: undici request + JSON.parse of the same pages, sequentially (best of 2 runs);
 *     (b) full run: runTask into a fresh LocalTarget + TaskCache (temp dir), 20 mapped attributes,
 *         taskIdAttribute + onDeleted so the deletion pass runs, the controller's defaults otherwise;
 *     (c) unchanged rerun on the same state: must write 0 cards (created + updated from the run summary).
 *     (d) a reference, not a target: the SQLite writes of (b)'s cards alone (same upsert, same batches, a
 *         fresh file, no network), timed around the writes; it shows how much of the 1.5 x budget storing
 *         the cards takes by itself on this machine.
 * - Targets: (b) wall time <= 1.5 x (a); peak RSS < 250 MB; with --compare-1m, peak RSS of (b) and (c) at
 *   1M within 20% of the same phase at the smaller size; (c) writes 0 cards. This is a benchmark, not a test:
 *   it prints PASS/MISS and always exits 0 unless the set-up itself fails.
 * The last line of the output is the JSON of all figures.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PhaseName, PhaseResult } from './extract-phase.js';
import { flag, intOption, round, table, verdict } from './lib/measure.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const EXEC_ARGV = ['--import', 'tsx'];

const TARGET_RATIO = 1.5;
const TARGET_RSS_MB = 250;
const TARGET_GROWTH = 0.2;
const RAW_REPEATS = 2;

interface Row {
  records: number;
  phase: PhaseName;
  label: string;
  wallMs: number;
  cpuMs: number;
  recordsPerSec: number;
  ratio: number;
  /** CPU time against the CPU time of (a): less sensitive to other load on the machine than the wall ratio. */
  cpuRatio: number;
  rssStartMb: number;
  rssPeakMb: number;
  maxRssMb: number;
  /** created + updated of the run summary. */
  cardsWritten?: number;
  created?: number;
  updated?: number;
  unchanged?: number;
  deleted?: number;
  /** Extract completion to load completion: the deletion pass and closing the artifacts. */
  afterExtractMs?: number;
  extractStatus?: string;
  loadStatus?: string;
}

function waitForMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    child.once('message', (m) => {
      done = true;
      resolve(m as T);
    });
    child.once('exit', (code) => {
      if (!done) reject(new Error(`${what} exited with code ${code} before reporting`));
    });
  });
}

async function startServer(records: number): Promise<{ child: ChildProcess; baseUrl: string; renderMs: number }> {
  const child = fork(join(HERE, 'source-server.ts'), ['--records', String(records)], {
    cwd: ROOT,
    execArgv: EXEC_ARGV,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port, renderMs } = await waitForMessage<{ port: number; renderMs: number }>(child, 'source server');
  return { child, baseUrl: `http://127.0.0.1:${port}/`, renderMs };
}

async function serverCpuMs(child: ChildProcess): Promise<number> {
  const stats = waitForMessage<{ cpuMs: number }>(child, 'source server');
  child.send('stats');
  return (await stats).cpuMs;
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function runPhase(phase: PhaseName, baseUrl: string, records: number, stateDir?: string): Promise<PhaseResult> {
  const args = ['--phase', phase, '--base-url', baseUrl, '--records', String(records)];
  if (stateDir) args.push('--state-dir', stateDir);
  const child = fork(join(HERE, 'extract-phase.ts'), args, {
    cwd: ROOT,
    execArgv: EXEC_ARGV,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const result = await waitForMessage<PhaseResult>(child, `phase ${phase}`);
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  return result;
}

function toRow(label: string, r: PhaseResult, limit: PhaseResult): Row {
  const load = r.summary?.load;
  const extract = r.summary?.extract;
  const afterExtractMs =
    extract?.completionTime && load?.completionTime
      ? Date.parse(load.completionTime) - Date.parse(extract.completionTime)
      : undefined;
  return {
    records: r.records,
    phase: r.phase,
    label,
    wallMs: round(r.wallMs, 0),
    cpuMs: round(r.cpuMs, 0),
    recordsPerSec: Math.round(r.records / (r.wallMs / 1000)),
    ratio: round(r.wallMs / limit.wallMs, 2),
    cpuRatio: round(r.cpuMs / limit.cpuMs, 2),
    rssStartMb: r.rss.startMb,
    rssPeakMb: r.rss.peakMb,
    maxRssMb: r.rss.maxRssMb,
    ...(load
      ? {
          cardsWritten: (load.created ?? 0) + (load.updated ?? 0),
          created: load.created,
          updated: load.updated,
          unchanged: load.unchanged,
          deleted: load.deleted,
          afterExtractMs,
          extractStatus: extract?.status,
          loadStatus: load.status,
        }
      : {}),
  };
}

interface SizeResult {
  rows: Row[];
  renderMs: number;
  bytes: number;
  /** CPU time of the source server process, rendering included. */
  serverCpuMs: number;
}

async function benchSize(records: number, keep: boolean): Promise<SizeResult> {
  const fmt = records.toLocaleString('en-US');
  process.stderr.write(`\n== ${fmt} records: starting the source server (renders the pages first) ...\n`);
  const server = await startServer(records);
  const stateDir = mkdtempSync(join(tmpdir(), 'provisio-bench-extract-'));
  try {
    const raws: PhaseResult[] = [];
    for (let i = 0; i < RAW_REPEATS; i++) {
      process.stderr.write(`   (a) physical limit, run ${i + 1}/${RAW_REPEATS} ...\n`);
      raws.push(await runPhase('raw', server.baseUrl, records));
    }
    const limit = raws.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    if (limit.records !== records) throw new Error(`the raw fetch read ${limit.records} records, not ${records}`);
    process.stderr.write(`   (b) full run into ${stateDir} ...\n`);
    const full = await runPhase('full', server.baseUrl, records, stateDir);
    process.stderr.write('   (c) unchanged rerun ...\n');
    const rerun = await runPhase('rerun', server.baseUrl, records, stateDir);
    if (full.cards !== records) process.stderr.write(`   ! the target holds ${full.cards} cards, not ${records}\n`);
    for (const r of [full, rerun]) {
      const { extract, load } = r.summary ?? {};
      if (extract?.status !== 'Succeeded' || load?.status !== 'Succeeded') {
        process.stderr.write(
          `   ! ${r.phase} run: extract ${extract?.status} (${extract?.info}), load ${load?.status} (${load?.info})\n`,
        );
      }
    }
    const serverCpu = await serverCpuMs(server.child);
    process.stderr.write('   (d) reference: storing the cards only ...\n');
    const storeOnly = await runPhase('store', server.baseUrl, records, stateDir);
    const rows = [
      toRow('(a) raw fetch + JSON.parse', limit, limit),
      toRow('(b) full run (runTask)', full, limit),
      toRow('(c) unchanged rerun', rerun, limit),
      toRow('(d) SQLite writes of (b) only', storeOnly, limit),
    ];
    return { rows, renderMs: server.renderMs, bytes: limit.bytes ?? 0, serverCpuMs: serverCpu };
  } finally {
    await stopServer(server.child);
    if (keep) process.stderr.write(`   kept ${stateDir}\n`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const records = intOption('--records', 100_000);
  const compare = flag('--compare-1m');
  const keep = flag('--keep');
  const sizes = compare && records !== 1_000_000 ? [records, 1_000_000] : [records];
  const started = Date.now();
  const results: Array<{ records: number } & SizeResult> = [];
  for (const n of sizes) results.push({ records: n, ...(await benchSize(n, keep)) });
  const rows = results.flatMap((r) => r.rows);

  const cpu = cpus();
  console.log(
    `\nProvisio extract benchmark — Node ${process.version}, ${cpu.length} cores (${cpu[0]?.model ?? '?'}), ` +
      `pages of 1,000, ~${Math.round(results[0].bytes / results[0].records)} bytes of JSON per record`,
  );
  console.log(
    'Each phase in a fresh process; RSS sampled every 20 ms; "RSS start" = after imports, before the work.\n',
  );
  console.log(
    table(
      [
        'records',
        'phase',
        'wall s',
        'records/s',
        'ratio to (a)',
        'CPU s',
        'CPU ratio',
        'RSS start MB',
        'peak RSS MB',
        'maxRSS MB',
        'written',
        'after extract s',
      ],
      rows.map((r) => [
        r.records.toLocaleString('en-US'),
        r.label,
        (r.wallMs / 1000).toFixed(2),
        r.recordsPerSec.toLocaleString('en-US'),
        r.ratio.toFixed(2),
        (r.cpuMs / 1000).toFixed(2),
        r.cpuRatio.toFixed(2),
        r.rssStartMb.toFixed(1),
        r.rssPeakMb.toFixed(1),
        r.maxRssMb.toFixed(1),
        r.cardsWritten === undefined ? '-' : r.cardsWritten.toLocaleString('en-US'),
        r.afterExtractMs === undefined ? '-' : (r.afterExtractMs / 1000).toFixed(2),
      ]),
      2,
    ),
  );
  console.log(
    '\n"written" = created + updated in the run summary; "after extract" = extract completion to load completion ' +
      '(the deletion pass); "CPU" = user + system time of the phase process, less sensitive to other load.',
  );
  for (const r of results) {
    const [raw, , , storeOnly] = r.rows;
    const budget = (TARGET_RATIO - 1) * raw.wallMs;
    console.log(
      `${r.records.toLocaleString('en-US')} records: at ${TARGET_RATIO} x (a), a run has ${(budget / 1000).toFixed(2)} s ` +
        'beyond fetching and parsing for mapping, hashing, the cache, the artifacts, the deletion pass and storing; ' +
        `storing the cards alone takes ${(storeOnly.wallMs / 1000).toFixed(2)} s (d) on this machine ` +
        `(${round(storeOnly.wallMs / budget, 2)} x that budget)`,
    );
  }
  for (const r of results) {
    console.log(
      `source server (${r.records.toLocaleString('en-US')} records): rendered its pages in ` +
        `${(r.renderMs / 1000).toFixed(2)} s before the phases, then spent ` +
        `${((r.serverCpuMs - r.renderMs) / 1000).toFixed(2)} CPU s serving all of them (on the other core)`,
    );
  }

  const targets: Array<{ target: string; value: string; pass: boolean }> = [];
  for (const r of results) {
    const n = r.records.toLocaleString('en-US');
    const [, full, rerun] = r.rows;
    targets.push({
      target: `${n}: full run <= ${TARGET_RATIO} x (a)`,
      value: `${full.ratio} x`,
      pass: full.ratio <= TARGET_RATIO,
    });
    for (const p of [full, rerun]) {
      const peak = Math.max(p.rssPeakMb, p.maxRssMb);
      targets.push({
        target: `${n}: ${p.label} peak RSS < ${TARGET_RSS_MB} MB`,
        value: `${peak} MB`,
        pass: peak < TARGET_RSS_MB,
      });
    }
    targets.push({
      target: `${n}: unchanged rerun writes 0 cards`,
      value: `created ${rerun.created} + updated ${rerun.updated} = ${rerun.cardsWritten} (unchanged ${rerun.unchanged})`,
      pass: rerun.cardsWritten === 0 && rerun.unchanged === r.records,
    });
  }
  const growth: Array<{ phase: string; fromMb: number; toMb: number; growth: number }> = [];
  if (results.length === 2) {
    for (const i of [1, 2]) {
      const a = results[0].rows[i];
      const b = results[1].rows[i];
      const fromMb = Math.max(a.rssPeakMb, a.maxRssMb);
      const toMb = Math.max(b.rssPeakMb, b.maxRssMb);
      const g = round((toMb - fromMb) / fromMb, 3);
      growth.push({ phase: a.label, fromMb, toMb, growth: g });
      targets.push({
        target: `${a.label} peak RSS ${results[0].records.toLocaleString('en-US')} -> 1,000,000 within ${TARGET_GROWTH * 100}%`,
        value: `${fromMb} -> ${toMb} MB (${g >= 0 ? '+' : ''}${round(g * 100, 1)}%)`,
        pass: Math.abs(g) <= TARGET_GROWTH,
      });
    }
  }
  console.log(
    `\n${table(
      ['target', 'measured', 'verdict'],
      targets.map((t) => [t.target, t.value, verdict(t.pass)]),
    )}`,
  );
  console.log(`\n(total benchmark time ${round((Date.now() - started) / 1000, 0)} s)`);
  console.log(
    JSON.stringify({
      bench: 'extract',
      node: process.version,
      cores: cpu.length,
      sizes: results.map((r) => ({
        records: r.records,
        serverRenderMs: r.renderMs,
        serverCpuMs: round(r.serverCpuMs, 0),
        bytes: r.bytes,
        phases: r.rows,
      })),
      rssGrowth: growth,
      targets: targets.map((t) => ({ target: t.target, value: t.value, pass: t.pass })),
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
