/**
 * Event benchmark: what an event task invocation (POST .../tasks/{name}/invoke, activity restCall) costs on top
 * of the upstream call it makes.
 *
 *   npm run bench:events                                 64 concurrent callers, 20 s per phase
 *   npm run bench:events -- --seconds 10 --concurrency 32
 *   npm run bench:events -- --log-levels warn            only the 'warn' controller
 *   npm run bench:events -- --with-proxy                 also (P), a bare Node proxy in the controller's place
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
 * - Targets, per log level: B/A throughput >= 0.7; added p99 latency (p99 B - p99 A) <= 5 ms; 0 errors.
 *   A benchmark, not a test: it prints PASS/MISS and exits 0 unless the set-up fails. The last line of the output
 *   is the JSON of all figures.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Pool, request as undiciRequest } from 'undici';
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
): Promise<{ result: LoadResult; cpu: CpuShare; window: { start: number; end: number } }> {
  const pool: Pool = loadPool(origin, load);
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
async function probe(base: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    try {
      const res = await undiciRequest(`${base}${INVOKE.path}`, {
        method: 'POST',
        headers: INVOKE.headers,
        body: INVOKE.body,
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      const text = await res.body.text();
      const problem = INVOKE.check(res.statusCode, text);
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

async function serverPhase(
  server: Server,
  upstreamUrl: string,
  upstream: ChildProcess,
  load: LoadOptions,
  warmupMs: number,
  scratch: string,
  profileDir: string | undefined,
): Promise<Phase> {
  // 'warn': stderr to a file, so that warnings (failed calls) can be counted and shown; 'info': the audit lines,
  // one per invocation, to /dev/null (written and serialized by pino all the same).
  const stderrFile = server === 'info' ? '/dev/null' : join(scratch, `${server}.stderr`);
  const stderr = openSync(stderrFile, 'w');
  const execArgv: string[] = [];
  if (profileDir) {
    const dir = join(profileDir, server);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const [script, args] =
    server === 'proxy'
      ? ['events-proxy.ts', ['--upstream', upstreamUrl]]
      : [
          'events-controller.ts',
          [
            '--upstream',
            upstreamUrl,
            '--token',
            TOKEN,
            '--log-level',
            server,
            '--max-concurrency',
            `${MAX_CONCURRENCY}`,
          ],
        ];
  const child = track(
    forkTs(join(HERE, 'lib', script), args, { cwd: ROOT, execArgv, stdio: ['ignore', 'inherit', stderr, 'ipc'] }),
  );
  const samples: Array<{ at: number; rss: number }> = [];
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'rss' && samples.length < 100_000) samples.push({ at: Date.now(), rss: m.rss });
  });
  try {
    const ready = await nextMessage(child, 'ready', server, 60_000);
    const base = `http://127.0.0.1:${ready.port}`;
    await probe(base);
    const m = await measure(base, INVOKE, load, warmupMs, { upstream, controller: child });
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
    const [phase, label] =
      server === 'proxy'
        ? ['P', '(P) bare Node proxy (reference)']
        : [`B-${server}`, `(B) invoke, log level ${server}`];
    return { phase, label, result: m.result, cpu: m.cpu, controller };
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

async function main(): Promise<void> {
  const seconds = secondsOption('--seconds', 20);
  if (seconds <= 0) throw new Error('--seconds must be more than 0');
  const warmup = secondsOption('--warmup', 2);
  const concurrency = intOption('--concurrency', 64);
  if (concurrency > 1024) throw new Error('--concurrency: at most 1024');
  const maxRequests = intOption('--max-requests', 10_000_000);
  const levels = levelsOption();
  const withProxy = flag('--with-proxy');
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
  const upstream = track(
    forkTs(join(HERE, 'lib', 'events-upstream.ts'), [], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const phases: Phase[] = [];
  try {
    const { port } = await nextMessage(upstream, 'ready', 'upstream', 30_000);
    const upstreamUrl = `http://127.0.0.1:${port}`;
    process.stderr.write(`(A) upstream directly (${upstreamUrl}): ${warmup} s warm-up + ${seconds} s ...\n`);
    const a = await measure(upstreamUrl, DIRECT, load, warmupMs, { upstream });
    phases.push({ phase: 'A', label: '(A) upstream directly', result: a.result, cpu: a.cpu });
    for (const level of levels) {
      process.stderr.write(
        `(B) invoke endpoint, controller log level ${level}: ${warmup} s warm-up + ${seconds} s ...\n`,
      );
      phases.push(await serverPhase(level, upstreamUrl, upstream, load, warmupMs, scratch, profileDir));
    }
    if (withProxy) {
      process.stderr.write(`(P) reference: a bare Node proxy (not Provisio): ${warmup} s warm-up + ${seconds} s ...\n`);
      phases.push(await serverPhase('proxy', upstreamUrl, upstream, load, warmupMs, scratch, profileDir));
    }
  } finally {
    await stopChild(upstream);
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

  const a = phases[0];
  const comparisons = phases.slice(1).map((b) => ({
    phase: b.phase,
    ratio: round(b.result.rps / a.result.rps, 3),
    addedP50Ms: round(b.result.latencyMs.p50 - a.result.latencyMs.p50, 2),
    addedP99Ms: round(b.result.latencyMs.p99 - a.result.latencyMs.p99, 2),
    errors: b.result.errors,
    controller: b.controller,
  }));
  console.log(
    `\n${table(
      [
        'server',
        'x/A throughput',
        'added p50 ms',
        'added p99 ms',
        'RSS ready MB',
        'peak RSS MB (sampled)',
        'peak under load',
        'VmHWM MB',
        'stderr lines',
      ],
      comparisons.map((c) => [
        c.phase === 'P' ? 'P (reference)' : c.phase,
        c.ratio.toFixed(3),
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
    '(added = B - A of the same percentile; RSS of the server process: sampled every 100 ms over IPC, and its ' +
      'VmHWM from /proc)',
  );

  for (const p of phases) {
    if (p.result.errors > 0) {
      console.log(`\n${p.label}: errors ${JSON.stringify(p.result.errorKinds)}`);
      for (const s of p.result.errorSamples) console.log(`  ${s}`);
    }
    for (const line of p.controller?.stderrSample ?? []) console.log(`${p.label} stderr: ${line}`);
  }

  const targets: Array<{ target: string; value: string; pass: boolean }> = [
    { target: '(A) errors = 0', value: String(a.result.errors), pass: a.result.errors === 0 },
  ];
  for (const c of comparisons) {
    if (c.phase === 'P') continue;
    targets.push(
      {
        target: `${c.phase}: B/A throughput >= ${TARGET_RATIO}`,
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
