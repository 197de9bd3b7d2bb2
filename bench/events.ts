/**
 * Event benchmark: what an event task invocation (POST .../tasks/{name}/invoke, activity restCall) costs on top
 * of the upstream call it makes.
 *
 *   npm run bench:events                                 64 concurrent callers, 20 s per phase
 *   npm run bench:events -- --seconds 10 --concurrency 32
 *   npm run bench:events -- --log-levels warn            only the 'warn' controller
 *   npm run bench:events -- --with-proxy                 also (P), a bare Node proxy in the controller's place
 *   npm run bench:events -- --graph-only                 only the Graph phases (GA, GB, GP)
 *   npm run bench:events -- --no-graph                   only the REST phases
 *   npm run bench:events -- --profile /tmp/prof          also write a CPU profile of each server process
 *                                                        (summarize: npx tsx bench/profile-top.ts FILE --filter src/)
 * Other options: --warmup S (2, 0 for none), --max-requests N (per phase, 10,000,000).
 *
 * Set-up and method:
 * - Three processes, so that client, controller and upstream do not share one event loop: the upstream REST API
 *   (bench/lib/events-upstream.ts, plain node:http, PATCH /api/users/:id → small JSON echoing the id), the
 *   Provisio controller (bench/lib/events-controller.ts: startServedRuntime on a temp dir with a REST connector to the
 *   upstream, auth none, and an event task with event.maxConcurrency 128), and the load generator in this
 *   process. They share the machine's cores (the output says how many).
 * - Load: a closed loop of --concurrency workers on one undici Pool (one connection each, pipelining 1); every
 *   answer is read and checked. Each phase warms up first (--warmup seconds, not counted) on the same pool.
 *     (A) the upstream directly: PATCH /api/users/u1 with {"mail": "a@example.com"};
 *     (B) the invoke endpoint: {"activity":"restCall","input":{"method":"PATCH","url":"/users/$id$",
 *         "body":"{\"mail\": \"$mail$\"}"},"data":{"id":"u1","mail":"a@example.com"}}, which makes the same call.
 *   B runs once per log level, each in a fresh controller process: 'warn' (no audit lines; stderr to a file,
 *   whose line count is reported) and 'info' (one audit line per invocation, stderr to /dev/null).
 *     (P) with --with-proxy, a reference that is not Provisio: bench/lib/events-proxy.ts, plain node:http + undici
 *         making the same upstream call with no routing, auth, checks, logging or metrics: the most any Node
 *         server can do in the controller's place on this machine. No targets apply to it.
 * - An error is a wrong answer: not 200, for B a state other than Completed or an upstream status other than
 *   200, or no answer. Latency is send to end of body, of the right answers. The controller reports its RSS
 *   every 100 ms over IPC (peak reported) and its VmHWM is read from /proc before it stops; CPU is user +
 *   system time of each process during the measured window, in % of one core.
 * - The Graph phase (after the REST phases, unless --no-graph), at --graph-concurrency (32) callers: the Graph
 *   simulator of the tests in its own process (bench/lib/events-graph.ts, HTTPS, token endpoint included);
 *     (GA) PATCH /v1.0/users/{id} {"mail"} directly with a bearer token;
 *     (GB) the invoke endpoint: {"activity":"updateUser","data":{"object_id","mail"}} on an msgraph event task
 *          (real MSAL, the controller at log level warn), which makes the same PATCH;
 *     (GP) the bare Node proxy making the same PATCH with one token (reference, no target).
 * - Targets, per log level (and for GB): B/A throughput >= 0.7; added p99 latency (p99 B - p99 A) <= 5 ms; 0 errors.
 *   A benchmark, not a test: it prints PASS/MISS and exits 0 unless the set-up fails. The last line of the output
 *   is the JSON of all figures.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, type Pool, request as undiciRequest } from 'undici';
import { graphToken, graphUserId } from './lib/events-graph-app.js';
import { type LoadOptions, type LoadRequest, type LoadResult, loadPool, runLoad } from './lib/events-load.js';
import {
  type ChildMessage,
  childStats,
  forkTs,
  killPid,
  MB,
  NAMESPACE,
  nextMessage,
  stopChild,
  TASK,
  vmHwmMb,
} from './lib/events-protocol.js';
import { flag, intOption, option, round, table, verdict } from './lib/measure.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const TOKEN = 'bench-events-token-0123456789';
const MAX_CONCURRENCY = 128;
const TARGET_RATIO = 0.7;
const TARGET_ADDED_P99_MS = 5;
const REQUEST_TIMEOUT_MS = 15_000;
const LEVELS = ['warn', 'info'] as const;
type Level = (typeof LEVELS)[number];

const USER = 'u1';
const MAIL = 'a@example.com';
const DIRECT: LoadRequest = {
  method: 'PATCH',
  path: `/api/users/${USER}`,
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body: `{"mail": "${MAIL}"}`,
  check: (status, body) => {
    if (status !== 200) return `status ${status}`;
    return (JSON.parse(body) as { id?: string }).id === USER ? undefined : 'wrong body';
  },
};
const INVOKE: LoadRequest = {
  method: 'POST',
  path: `/api/v1/namespaces/${NAMESPACE}/tasks/${TASK}/invoke`,
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    activity: 'restCall',
    input: { method: 'PATCH', url: '/users/$id$', body: '{"mail": "$mail$"}' },
    data: { id: USER, mail: MAIL },
  }),
  check: (status, body) => {
    if (status !== 200) return `status ${status}`;
    const answer = JSON.parse(body) as { state?: string; statusCode?: number; response?: { id?: string } };
    if (answer.state !== 'Completed') return `state ${answer.state}`;
    if (answer.statusCode !== 200) return `upstream status ${answer.statusCode}`;
    return answer.response?.id === USER ? undefined : 'wrong response';
  },
};

const GRAPH_USER = graphUserId(0);
const GRAPH_MAIL = 'bench0@example.com';
/** (GA) the Graph simulator directly: the PATCH updateUser makes, with a token fetched once. */
const graphDirect = (token: string): LoadRequest => ({
  method: 'PATCH',
  path: `/v1.0/users/${GRAPH_USER}`,
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
  body: JSON.stringify({ mail: GRAPH_MAIL }),
  check: (status) => (status === 204 ? undefined : `status ${status}`),
});
/** (GB) updateUser through the invoke endpoint of an msgraph event task. */
const GRAPH_INVOKE: LoadRequest = {
  method: 'POST',
  path: `/api/v1/namespaces/${NAMESPACE}/tasks/${TASK}/invoke`,
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ activity: 'updateUser', data: { object_id: GRAPH_USER, mail: GRAPH_MAIL } }),
  check: (status, body) => {
    if (status !== 200) return `status ${status}`;
    const answer = JSON.parse(body) as { state?: string; statusCode?: number };
    if (answer.state !== 'Completed') return `state ${answer.state}`;
    return answer.statusCode === 204 ? undefined : `upstream status ${answer.statusCode}`;
  },
};

interface CpuShare {
  client: number;
  upstream: number;
  controller?: number;
}

interface ControllerFigures {
  rssReadyMb: number;
  /** Highest RSS of the IPC samples (every 100 ms), whole life of the process. */
  peakRssMb: number;
  /** Highest RSS sample during the measured window. */
  peakRssLoadMb: number;
  vmHwmMb?: number;
  stderrLines?: number;
  stderrSample?: string[];
}

interface Phase {
  phase: string;
  label: string;
  result: LoadResult;
  cpu: CpuShare;
  controller?: ControllerFigures;
}

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll(): void {
  for (const child of children) killPid(child);
}

const cpuMs = (s: Extract<ChildMessage, { type: 'stats' }>): number => s.cpuUserMs + s.cpuSystemMs;
const clientCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Warm-up (not counted), then the measured load, with the CPU time of every process over the measured window. */
async function measure(
  origin: string,
  request: LoadRequest,
  load: LoadOptions,
  warmupMs: number,
  procs: { upstream: ChildProcess; controller?: ChildProcess },
  ca?: string,
): Promise<{ result: LoadResult; cpu: CpuShare; window: { start: number; end: number } }> {
  const pool: Pool = loadPool(origin, load, ca);
  try {
    if (warmupMs > 0) await runLoad(pool, request, { ...load, durationMs: warmupMs });
    const up0 = await childStats(procs.upstream, 'upstream');
    const ctl0 = procs.controller ? await childStats(procs.controller, 'controller') : undefined;
    const client0 = clientCpuMs();
    const start = Date.now();
    const result = await runLoad(pool, request, load);
    const end = Date.now();
    const client1 = clientCpuMs();
    const up1 = await childStats(procs.upstream, 'upstream');
    const ctl1 = procs.controller ? await childStats(procs.controller, 'controller') : undefined;
    const pct = (ms: number): number => round((ms / result.elapsedMs) * 100, 0);
    return {
      result,
      cpu: {
        client: pct(client1 - client0),
        upstream: pct(cpuMs(up1) - cpuMs(up0)),
        ...(ctl0 && ctl1 ? { controller: pct(cpuMs(ctl1) - cpuMs(ctl0)) } : {}),
      },
      window: { start, end },
    };
  } finally {
    await pool.close().catch(() => {});
  }
}

/** Invokes once until the controller answers Completed (bounded: 50 tries, 100 ms apart). */
async function probe(base: string, request: LoadRequest): Promise<void> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    try {
      const res = await undiciRequest(`${base}${request.path}`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      const text = await res.body.text();
      const problem = request.check(res.statusCode, text);
      if (problem === undefined) return;
      last = `${problem}: ${text.slice(0, 300)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the controller did not complete a probe invocation: ${last}`);
}

/** A Provisio controller at a log level, or the bare Node proxy of the reference phase. */
type Server = Level | 'proxy';

/** What a server phase runs: the child's script and arguments, the request it is sent, its names. */
interface ServerSpec {
  server: Server;
  script: string;
  args: string[];
  request: LoadRequest;
  phase: string;
  label: string;
}

function restSpec(server: Server, upstreamUrl: string): ServerSpec {
  if (server === 'proxy') {
    return {
      server,
      script: 'events-proxy.ts',
      args: ['--upstream', upstreamUrl],
      request: INVOKE,
      phase: 'P',
      label: '(P) bare Node proxy (reference)',
    };
  }
  return {
    server,
    script: 'events-controller.ts',
    args: [
      '--upstream',
      upstreamUrl,
      '--token',
      TOKEN,
      '--log-level',
      server,
      '--max-concurrency',
      `${MAX_CONCURRENCY}`,
    ],
    request: INVOKE,
    phase: `B-${server}`,
    label: `(B) invoke, log level ${server}`,
  };
}

async function serverPhase(
  spec: ServerSpec,
  upstream: ChildProcess,
  load: LoadOptions,
  warmupMs: number,
  scratch: string,
  profileDir: string | undefined,
): Promise<Phase> {
  const { server } = spec;
  // 'warn': stderr to a file, so that warnings (failed calls) can be counted and shown; 'info': the audit lines,
  // one per invocation, to /dev/null (written and serialized by pino all the same).
  const stderrFile = server === 'info' ? '/dev/null' : join(scratch, `${spec.phase}.stderr`);
  const stderr = openSync(stderrFile, 'w');
  const execArgv: string[] = [];
  if (profileDir) {
    const dir = join(profileDir, spec.phase);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const child = track(
    forkTs(join(HERE, 'lib', spec.script), spec.args, {
      cwd: ROOT,
      execArgv,
      stdio: ['ignore', 'inherit', stderr, 'ipc'],
    }),
  );
  const samples: Array<{ at: number; rss: number }> = [];
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'rss' && samples.length < 100_000) samples.push({ at: Date.now(), rss: m.rss });
  });
  try {
    const ready = await nextMessage(child, 'ready', server, 60_000);
    const base = `http://127.0.0.1:${ready.port}`;
    await probe(base, spec.request);
    const m = await measure(base, spec.request, load, warmupMs, { upstream, controller: child });
    const hwm = vmHwmMb(child.pid);
    const inWindow = samples.filter((s) => s.at >= m.window.start && s.at <= m.window.end);
    const peak = (list: Array<{ rss: number }>): number => round(Math.max(0, ...list.map((s) => s.rss)) / MB, 1);
    const controller: ControllerFigures = {
      rssReadyMb: round(ready.rssMb, 1),
      peakRssMb: peak(samples),
      peakRssLoadMb: peak(inWindow),
      ...(hwm === undefined ? {} : { vmHwmMb: round(hwm, 1) }),
    };
    await stopChild(child, profileDir ? 30_000 : 10_000);
    if (server !== 'info') {
      const lines = readFileSync(stderrFile, 'utf8').split('\n').filter(Boolean);
      controller.stderrLines = lines.length;
      controller.stderrSample = lines.slice(0, 3).map((l) => l.slice(0, 300));
    }
    return { phase: spec.phase, label: spec.label, result: m.result, cpu: m.cpu, controller };
  } finally {
    await stopChild(child);
    closeSync(stderr);
  }
}

function levelsOption(): Level[] {
  const raw = option('--log-levels');
  if (raw === undefined) return [...LEVELS];
  const levels = raw.split(',').map((s) => s.trim());
  for (const l of levels) {
    if (!(LEVELS as readonly string[]).includes(l)) throw new Error(`--log-levels: "${l}" is not one of warn, info`);
  }
  return levels as Level[];
}

function secondsOption(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new Error(`${name} needs a number of seconds from 0 to 3600`);
  return n;
}

const ms = (n: number): string => (Number.isNaN(n) ? '-' : n.toFixed(2));
const signed = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(2)}`;

/** The REST phases: the upstream directly (A), the invoke endpoint per log level (B), the bare proxy (P). */
async function restPart(
  load: LoadOptions,
  warmupMs: number,
  o: { levels: Level[]; withProxy: boolean; scratch: string; profileDir: string | undefined },
): Promise<Phase[]> {
  const upstream = track(
    forkTs(join(HERE, 'lib', 'events-upstream.ts'), [], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const phases: Phase[] = [];
  const window = `${warmupMs / 1000} s warm-up + ${load.durationMs / 1000} s`;
  try {
    const { port } = await nextMessage(upstream, 'ready', 'upstream', 30_000);
    const upstreamUrl = `http://127.0.0.1:${port}`;
    process.stderr.write(`(A) upstream directly (${upstreamUrl}): ${window} ...\n`);
    const a = await measure(upstreamUrl, DIRECT, load, warmupMs, { upstream });
    phases.push({ phase: 'A', label: '(A) upstream directly', result: a.result, cpu: a.cpu });
    const servers: Server[] = [...o.levels, ...(o.withProxy ? (['proxy'] as const) : [])];
    for (const server of servers) {
      const spec = restSpec(server, upstreamUrl);
      process.stderr.write(`${spec.label}: ${window} ...\n`);
      phases.push(await serverPhase(spec, upstream, load, warmupMs, o.scratch, o.profileDir));
    }
  } finally {
    await stopChild(upstream);
  }
  return phases;
}

/**
 * The Graph phase: the Graph simulator (HTTPS, its own process) updated directly (GA), through updateUser on
 * the invoke endpoint of a controller at log level warn (GB), and through the bare proxy making the same PATCH
 * (GP), at --graph-concurrency callers.
 */
async function graphPart(
  load: LoadOptions,
  warmupMs: number,
  scratch: string,
  profileDir: string | undefined,
): Promise<Phase[]> {
  const caFile = join(scratch, 'graph-ca.crt');
  const sim = track(
    forkTs(join(HERE, 'lib', 'events-graph.ts'), ['--ca-file', caFile], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const phases: Phase[] = [];
  try {
    const { port } = await nextMessage(sim, 'ready', 'Graph simulator', 60_000);
    const graph = `https://localhost:${port}`;
    const ca = readFileSync(caFile, 'utf8');
    const tokenAgent = new Agent({ connect: { ca } });
    const token = await graphToken(graph, async (url, form) => {
      const res = await undiciRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        dispatcher: tokenAgent,
      });
      return res.body.json();
    });
    await tokenAgent.close();
    process.stderr.write(`(GA) Graph simulator directly (${graph}), concurrency ${load.concurrency} ...\n`);
    const a = await measure(graph, graphDirect(token), load, warmupMs, { upstream: sim }, ca);
    phases.push({ phase: 'GA', label: '(GA) Graph simulator directly', result: a.result, cpu: a.cpu });
    const common = ['--graph', graph, '--ca-file', caFile];
    const specs: ServerSpec[] = [
      {
        server: 'warn',
        script: 'events-controller.ts',
        args: [...common, '--token', TOKEN, '--log-level', 'warn', '--max-concurrency', `${MAX_CONCURRENCY}`],
        request: GRAPH_INVOKE,
        phase: 'GB',
        label: '(GB) invoke updateUser, log level warn',
      },
      {
        server: 'proxy',
        script: 'events-proxy.ts',
        args: common,
        request: GRAPH_INVOKE,
        phase: 'GP',
        label: '(GP) bare Node proxy, same PATCH (reference)',
      },
    ];
    for (const spec of specs) {
      process.stderr.write(`${spec.label}: concurrency ${load.concurrency} ...\n`);
      phases.push(await serverPhase(spec, sim, load, warmupMs, scratch, profileDir));
    }
  } finally {
    await stopChild(sim);
  }
  return phases;
}

async function main(): Promise<void> {
  const seconds = secondsOption('--seconds', 20);
  if (seconds <= 0) throw new Error('--seconds must be more than 0');
  const warmup = secondsOption('--warmup', 2);
  const concurrency = intOption('--concurrency', 64);
  if (concurrency > 1024) throw new Error('--concurrency: at most 1024');
  const maxRequests = intOption('--max-requests', 10_000_000);
  const levels = levelsOption();
  const withProxy = flag('--with-proxy');
  const graph = !flag('--no-graph');
  const graphOnly = flag('--graph-only');
  const graphConcurrency = intOption('--graph-concurrency', 32);
  const profileOpt = option('--profile');
  const profileDir = profileOpt ? resolve(profileOpt) : undefined;
  const load: LoadOptions = {
    concurrency,
    durationMs: seconds * 1000,
    maxRequests,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  };
  const warmupMs = warmup * 1000;

  process.once('SIGINT', () => {
    killAll();
    process.exit(130);
  });
  process.once('SIGTERM', () => {
    killAll();
    process.exit(143);
  });
  process.once('exit', killAll);

  const started = Date.now();
  const scratch = mkdtempSync(join(tmpdir(), 'provisio-bench-events-out-'));
  const phases: Phase[] = [];
  try {
    if (!graphOnly) phases.push(...(await restPart(load, warmupMs, { levels, withProxy, scratch, profileDir })));
    if (graph || graphOnly) {
      phases.push(...(await graphPart({ ...load, concurrency: graphConcurrency }, warmupMs, scratch, profileDir)));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  report(phases, { seconds, warmup, concurrency, profileDir, totalS: round((Date.now() - started) / 1000, 0) });
}

function report(
  phases: Phase[],
  run: { seconds: number; warmup: number; concurrency: number; profileDir?: string; totalS: number },
): void {
  const cpu = cpus();
  const cores = availableParallelism();
  console.log(
    `\nProvisio event benchmark — Node ${process.version}, ${cores} cores (${cpu[0]?.model ?? '?'}), ` +
      `concurrency ${run.concurrency}, ${run.seconds} s per phase after ${run.warmup} s warm-up`,
  );
  console.log(
    `Client (this process, undici Pool, ${run.concurrency} connections, pipelining 1), controller and upstream run ` +
      `in 3 separate processes sharing the machine's ${cores} cores: in (B) all three are busy at once.\n`,
  );
  console.log(
    table(
      [
        'phase',
        'requests/s',
        'requests',
        'errors',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'CPU % client',
        'controller',
        'upstream',
      ],
      phases.map((p) => [
        p.label,
        Math.round(p.result.rps).toLocaleString('en-US'),
        p.result.requests.toLocaleString('en-US'),
        String(p.result.errors),
        ms(p.result.latencyMs.p50),
        ms(p.result.latencyMs.p90),
        ms(p.result.latencyMs.p99),
        ms(p.result.latencyMs.p999),
        ms(p.result.latencyMs.max),
        String(p.cpu.client),
        p.cpu.controller === undefined ? '-' : String(p.cpu.controller),
        String(p.cpu.upstream),
      ]),
    ),
  );
  console.log('(CPU % = user + system time of the process over the measured window, 100 = one core busy)');

  // Each server phase is compared with the direct phase of its group (A: the REST upstream, GA: the Graph
  // simulator) and with the bare proxy of its group, when that ran.
  const direct = (p: Phase): Phase => phases.find((x) => x.phase === (p.phase.startsWith('G') ? 'GA' : 'A')) ?? p;
  const proxyOf = (p: Phase): Phase | undefined =>
    phases.find((x) => x.phase === (p.phase.startsWith('G') ? 'GP' : 'P'));
  const isReference = (p: { phase: string }): boolean => p.phase === 'P' || p.phase === 'GP';
  const comparisons = phases
    .filter((p) => p.phase !== 'A' && p.phase !== 'GA')
    .map((b) => {
      const a = direct(b);
      const proxy = proxyOf(b);
      return {
        phase: b.phase,
        ratio: round(b.result.rps / a.result.rps, 3),
        ...(proxy && !isReference(b) ? { proxyRatio: round(b.result.rps / proxy.result.rps, 3) } : {}),
        addedP50Ms: round(b.result.latencyMs.p50 - a.result.latencyMs.p50, 2),
        addedP99Ms: round(b.result.latencyMs.p99 - a.result.latencyMs.p99, 2),
        errors: b.result.errors,
        controller: b.controller,
      };
    });
  console.log(
    `\n${table(
      [
        'server',
        'x/direct throughput',
        'x/proxy',
        'added p50 ms',
        'added p99 ms',
        'RSS ready MB',
        'peak RSS MB (sampled)',
        'peak under load',
        'VmHWM MB',
        'stderr lines',
      ],
      comparisons.map((c) => [
        isReference(c) ? `${c.phase} (reference)` : c.phase,
        c.ratio.toFixed(3),
        c.proxyRatio === undefined ? '-' : c.proxyRatio.toFixed(3),
        signed(c.addedP50Ms),
        signed(c.addedP99Ms),
        c.controller?.rssReadyMb.toFixed(1) ?? '-',
        c.controller?.peakRssMb.toFixed(1) ?? '-',
        c.controller?.peakRssLoadMb.toFixed(1) ?? '-',
        c.controller?.vmHwmMb?.toFixed(1) ?? '-',
        c.controller?.stderrLines === undefined ? '(/dev/null)' : String(c.controller.stderrLines),
      ]),
    )}`,
  );
  console.log(
    '(direct = A for the REST phases, GA for the Graph phases; added = server - direct of the same percentile; RSS of the server process: sampled every 100 ms over IPC, and its ' +
      'VmHWM from /proc)',
  );

  for (const p of phases) {
    if (p.result.errors > 0) {
      console.log(`\n${p.label}: errors ${JSON.stringify(p.result.errorKinds)}`);
      for (const s of p.result.errorSamples) console.log(`  ${s}`);
    }
    for (const line of p.controller?.stderrSample ?? []) console.log(`${p.label} stderr: ${line}`);
  }

  const targets: Array<{ target: string; value: string; pass: boolean }> = phases
    .filter((p) => p.phase === 'A' || p.phase === 'GA')
    .map((p) => ({ target: `(${p.phase}) errors = 0`, value: String(p.result.errors), pass: p.result.errors === 0 }));
  for (const c of comparisons) {
    if (isReference(c)) continue;
    targets.push(
      {
        target: `${c.phase}: throughput / direct >= ${TARGET_RATIO}`,
        value: c.ratio.toFixed(3),
        pass: c.ratio >= TARGET_RATIO,
      },
      {
        target: `${c.phase}: added p99 latency <= ${TARGET_ADDED_P99_MS} ms`,
        value: `${signed(c.addedP99Ms)} ms`,
        pass: c.addedP99Ms <= TARGET_ADDED_P99_MS,
      },
      { target: `${c.phase}: errors = 0`, value: String(c.errors), pass: c.errors === 0 },
    );
  }
  console.log(
    `\n${table(
      ['target', 'measured', 'verdict'],
      targets.map((t) => [t.target, t.value, verdict(t.pass)]),
    )}`,
  );
  if (run.profileDir) {
    console.log(
      `\nCPU profiles of the server processes under ${run.profileDir}/<warn|info|proxy>/ ` +
        '(CPU.*.0.001.cpuprofile is the main thread): npx tsx bench/profile-top.ts FILE --filter src/',
    );
  }
  console.log(`\n(total benchmark time ${run.totalS} s)`);
  console.log(
    JSON.stringify({
      bench: 'events',
      node: process.version,
      cores,
      cpuModel: cpu[0]?.model,
      seconds: run.seconds,
      warmupSeconds: run.warmup,
      concurrency: run.concurrency,
      maxConcurrency: MAX_CONCURRENCY,
      phases: phases.map((p) => ({
        phase: p.phase,
        rps: round(p.result.rps, 1),
        requests: p.result.requests,
        ok: p.result.ok,
        errors: p.result.errors,
        errorKinds: p.result.errorKinds,
        elapsedMs: round(p.result.elapsedMs, 0),
        latencyMs: Object.fromEntries(Object.entries(p.result.latencyMs).map(([k, v]) => [k, round(v, 3)])),
        cpuPercent: p.cpu,
        ...(p.controller ? { controller: { ...p.controller, stderrSample: undefined } } : {}),
      })),
      comparisons: comparisons.map((c) => ({ ...c, controller: undefined })),
      targets,
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  killAll();
  process.exitCode = 1;
});
