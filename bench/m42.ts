/**
 * m42 target benchmark: 20,000 records from a local REST source (bench/source-server.ts, its own process)
 * into the simulated home solution (test/peers/m42-api/main.ts, its own process), through the m42 target.
 *
 *   npm run bench:m42                      20,000 records
 *   npm run bench:m42 -- --records 50000   another size
 *
 * (a) the physical limit: the least calls the API allows for a first load, made bare with undici from
 *     pre-built bodies of the same cards: per 200 cards one lookup page (`$employee_id$ IN (...)`, empty)
 *     and one bulk PUT, then the deletion-marking scan of the loaded cards (one page per 200).
 * (b) a first load with Provisio (runTask: REST extract, mapping, task cache, m42 target) into an empty
 *     template: API calls per card against (a)'s, cards/s and the wall ratio against (a).
 * (c) the same run again: no card changed, so no write; the only calls are the deletion-marking scan of
 *     the task's cards (one page per 200 cards) and the template check.
 * Peak RSS is this process's (the engine, the target); the source and the simulator run in their own.
 * The last line is JSON.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { builtInConnectorTypes } from '../src/connectors/registry.js';
import { compileMapping } from '../src/engine/mapper.js';
import { runTask } from '../src/engine/run-task.js';
import { silentLogger } from '../src/log/logger.js';
import type { Connector, Task } from '../src/model/resources.js';
import { LocalSecretResolver } from '../src/secrets/resolver.js';
import { SqliteTaskCache } from '../src/state/sqlite/sqlite-task-cache.js';
import { writeData } from '../src/targets/m42/api/card-values.js';
import type { M42Target } from '../src/targets/m42/m42-target.js';
import { M42Targets } from '../src/targets/m42/m42-targets.js';
import { benchConnector, benchTask, employee, MAPPED_ATTRIBUTES } from './lib/dataset.js';
import { intOption, RssSampler, round, table } from './lib/measure.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const RECORDS = intOption('--records', 20_000);
const PAGE = 200;
const USER = { login: 'bench-loader', password: 'bench-webapi-pw' };

function attributesOf(): Record<string, { type: string; unique?: boolean; multiValue?: boolean }> {
  const out: Record<string, { type: string; unique?: boolean; multiValue?: boolean }> = {};
  for (const a of MAPPED_ATTRIBUTES) out[a.local] = { type: 'string' };
  out.employee_id = { type: 'string', unique: true };
  out.fte = { type: 'number' };
  out.languages = { type: 'string', multiValue: true };
  for (const stamp of ['task_id', 'source_type', 'status']) out[stamp] = { type: 'string' };
  return out;
}

async function startSimulator(dir: string): Promise<{ child: ChildProcess; url: string; origin: string }> {
  const seed = join(dir, 'seed.json');
  const attributes = attributesOf();
  writeFileSync(
    seed,
    JSON.stringify({
      users: [USER],
      templates: [
        { code: 'employee', folders: [{ code: 'employees' }], attributes },
        { code: 'bare_employee', folders: [{ code: 'employees' }], attributes },
        { code: 'failure', folders: [{ code: 'failures' }], attributes: { message: { type: 'string' } } },
      ],
    }),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/peers/m42-api/main.ts'), '--port', '0', '--seed', seed],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited with code ${code}`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return { child, url, origin: new URL(url).origin };
}

async function startSource(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(HERE, 'source-server.ts'), ['--records', String(RECORDS)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the source exited with code ${code}`)));
  });
  return { child, port };
}

const counts = async (origin: string) =>
  (await (await request(`${origin}/__sim/counts`)).body.json()) as Record<string, number>;

/** The bulk PUT bodies of (a): the cards Provisio writes, mapped and shaped before the clock starts. */
function bareBodies(): Array<{ ids: string[]; body: string }> {
  const mapping = compileMapping(benchTask(RECORDS).spec.mappings!.generic!, [], {
    taskId: 'bench/bare',
    connectorType: 'rest',
  });
  const types = Object.fromEntries(Object.entries(attributesOf()).map(([k, v]) => [k, { type: v.type }]));
  const out: Array<{ ids: string[]; body: string }> = [];
  for (let start = 0; start < RECORDS; start += PAGE) {
    const ids: string[] = [];
    const items: unknown[] = [];
    for (let i = start; i < Math.min(RECORDS, start + PAGE); i++) {
      const mapped = mapping.map(employee(i));
      ids.push(String(mapped.key));
      items.push({ folderCode: 'employees', data: writeData(mapped.card, types) });
    }
    out.push({ ids, body: JSON.stringify(items) });
  }
  return out;
}

/**
 * (a) the least calls a first load needs, bare: per 200 cards one (empty) lookup page and one bulk PUT of the
 * same cards, then the deletion-marking scan of the loaded cards (one page per 200).
 */
async function bare(url: string): Promise<{ ms: number; calls: number }> {
  const bodies = bareBodies();
  const login = await request(`${url}/users/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: USER.login, password: USER.password }).toString(),
  });
  const token = ((await login.body.json()) as { token: string }).token;
  const headers = { authorization: token, 'content-type': 'application/json' };
  const started = performance.now();
  let calls = 0;
  for (const { ids, body } of bodies) {
    const filter = `$employee_id$ IN (${ids.map((i) => `'${i}'`).join(', ')})`;
    const q = new URLSearchParams({
      limit: String(PAGE),
      dataCards: 'true',
      filter,
      selectedAttributes: 'employee_id',
    });
    await (await request(`${url}/dc/bare_employee/data?${q}`, { headers })).body.json();
    await (await request(`${url}/dc/bare_employee/data`, { method: 'PUT', headers, body })).body.json();
    calls += 2;
  }
  const filter = "$task_id$ = 'bench/bare'";
  for (let filterId: number | undefined; ; ) {
    const q = new URLSearchParams({
      limit: String(PAGE),
      dataCards: 'true',
      filter,
      selectedAttributes: 'employee_id',
    });
    if (filterId !== undefined) q.set('filterId', String(filterId));
    const page = (await (await request(`${url}/dc/bare_employee/data?${q}`, { headers })).body.json()) as {
      data: Array<{ dataCardId: number }>;
      meta: { links?: { next?: string } };
    };
    calls++;
    if (!page.meta.links?.next || page.data.length === 0) break;
    filterId = page.data[page.data.length - 1].dataCardId;
  }
  return { ms: performance.now() - started, calls };
}

async function run(
  targets: M42Targets,
  cache: SqliteTaskCache,
  dir: string,
  task: Task,
  connector: Connector,
  runId: string,
) {
  const rss = new RssSampler();
  const target = targets.targetFor(connector) as M42Target;
  const callsBefore = target.client.calls;
  const started = performance.now();
  const summary = await runTask(
    {
      targets,
      connectorTypes: builtInConnectorTypes,
      cache,
      secrets: new LocalSecretResolver(undefined, {}),
      log: silentLogger,
      artifactsRoot: join(dir, 'artifacts'),
    },
    { task, connector, runId, trigger: 'manual', plannedTime: new Date(), signal: new AbortController().signal },
  );
  return { ms: performance.now() - started, summary, calls: target.client.calls - callsBefore, rss: rss.stop() };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'provisio-bench-m42-'));
  const sim = await startSimulator(dir);
  const source = await startSource();
  try {
    const connector: Connector = { ...benchConnector(`http://127.0.0.1:${source.port}`) };
    connector.spec = { ...connector.spec, webApi: { secretRef: { name: 'loader' } } };
    const task = benchTask(RECORDS);
    const targets = new M42Targets({
      url: sim.url,
      secrets: new LocalSecretResolver(undefined, {
        PROVISIO_SECRET_LOADER_USERNAME: USER.login,
        PROVISIO_SECRET_LOADER_PASSWORD: USER.password,
      }),
      log: silentLogger,
    });
    const cache = new SqliteTaskCache(join(dir, 'state.db'));
    const before = await counts(sim.origin);
    const first = await run(targets, cache, dir, task, connector, 'first');
    const afterFirst = await counts(sim.origin);
    const again = await run(targets, cache, dir, task, connector, 'again');
    const afterAgain = await counts(sim.origin);
    cache.close();
    await targets.close();
    // After Provisio's runs: its pre-built bodies would otherwise count in their peak RSS.
    const limit = await bare(sim.url);

    const writes = (a: Record<string, number>, b: Record<string, number>) =>
      (b.bulkPut ?? 0) - (a.bulkPut ?? 0) + (b.create ?? 0) - (a.create ?? 0) + (b.patch ?? 0) - (a.patch ?? 0);
    const least = limit.calls;
    const rows = [
      [
        '(a) bare: lookup + bulk PUT per 200, scan',
        String(RECORDS),
        String(limit.calls),
        round(limit.calls / RECORDS, 4).toString(),
        round(RECORDS / (limit.ms / 1000), 0).toString(),
        '1.00',
        '-',
      ],
      [
        '(b) first load (Provisio)',
        String(first.summary.load?.created ?? 0),
        String(first.calls),
        round(first.calls / RECORDS, 4).toString(),
        round(RECORDS / (first.ms / 1000), 0).toString(),
        round(first.ms / limit.ms, 2).toFixed(2),
        String(first.rss.peakMb),
      ],
      [
        '(c) unchanged rerun',
        String(again.summary.load?.unchanged ?? 0),
        String(again.calls),
        round(again.calls / RECORDS, 4).toString(),
        round(RECORDS / (again.ms / 1000), 0).toString(),
        round(again.ms / limit.ms, 2).toFixed(2),
        String(again.rss.peakMb),
      ],
    ];
    console.log(
      `m42 target: ${RECORDS} records, REST source → simulated home solution (pages and bulk PUTs of ${PAGE})`,
    );
    console.log(table(['phase', 'cards', 'API calls', 'calls/card', 'cards/s', 'x bare', 'peak RSS MB'], rows));
    const firstWrites = writes(before, afterFirst);
    const rerunWrites = writes(afterFirst, afterAgain);
    console.log(
      `first load: ${first.calls} calls = ${round(first.calls / least, 2)} x the least the API allows (${least}); ${firstWrites} writes (bulk PUTs)`,
    );
    console.log(
      `unchanged rerun: ${rerunWrites} writes (target 0), ${again.calls} calls = ${round(again.calls / Math.ceil(RECORDS / PAGE), 2)} per 200 cards (target at most 1)`,
    );
    console.log(
      JSON.stringify({
        records: RECORDS,
        bare: { ms: round(limit.ms), calls: limit.calls },
        first: {
          ms: round(first.ms),
          calls: first.calls,
          writes: firstWrites,
          peakRssMb: first.rss.peakMb,
          reason: first.summary.reason,
        },
        rerun: {
          ms: round(again.ms),
          calls: again.calls,
          writes: rerunWrites,
          peakRssMb: again.rss.peakMb,
          reason: again.summary.reason,
        },
      }),
    );
  } finally {
    sim.child.kill('SIGTERM');
    source.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
