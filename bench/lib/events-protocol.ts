/**
 * What the event benchmark (bench/events.ts) and its two child processes (bench/lib/events-upstream.ts,
 * bench/lib/events-controller.ts) say to each other over IPC, and the helpers to fork, await and stop them.
 * Every wait is bounded in time; every child is stopped by its pid.
 */
import { type ChildProcess, fork, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Child → parent. */
export type ChildMessage =
  | { type: 'ready'; port: number; rssMb: number }
  | { type: 'rss'; rss: number }
  | { type: 'stats'; cpuUserMs: number; cpuSystemMs: number; rssMb: number; peakRssMb: number; requests?: number };

/** Parent → child. */
export type ParentMessage = 'stats' | 'stop';

export const MB = 1024 * 1024;

/** Namespace and name of the benchmark's event task (bench/lib/events-controller.ts writes it). */
export const NAMESPACE = 'bench';
export const TASK = 'users';

/** Node + the tsx loader, as every bench child runs; extra flags (--cpu-prof) go after. */
export function forkTs(file: string, args: string[], opts: { cwd: string; execArgv?: string[]; stdio: StdioOptions }) {
  return fork(file, args, {
    cwd: opts.cwd,
    execArgv: ['--import', 'tsx', ...(opts.execArgv ?? [])],
    stdio: opts.stdio,
  });
}

/** The next message of `type` from the child; rejects when the child exits first or after `timeoutMs`. */
export function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
  what: string,
  timeoutMs = 30_000,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: unknown): void => {
      if (typeof m === 'object' && m !== null && (m as ChildMessage).type === type) {
        cleanup();
        resolve(m as Extract<ChildMessage, { type: T }>);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`${what} exited (code ${code}, signal ${signal}) before sending "${type}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} sent no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function childStats(child: ChildProcess, what: string): Promise<Extract<ChildMessage, { type: 'stats' }>> {
  const reply = nextMessage(child, 'stats', what, 10_000);
  child.send('stats' satisfies ParentMessage);
  return reply;
}

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/**
 * Asks the child to stop (it closes what it opened and exits, which also writes a --cpu-prof profile), then
 * SIGKILLs its pid if it has not exited within `graceMs`.
 */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send('stop' satisfies ParentMessage);
  const timer = setTimeout(() => killPid(child), graceMs);
  await exited;
  clearTimeout(timer);
}

/** SIGKILL by pid, if the child still runs. */
export function killPid(child: ChildProcess): void {
  if (child.pid === undefined || !alive(child)) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The kernel's high-water mark of the process's resident set (VmHWM), MB; undefined off Linux. */
export function vmHwmMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+)\s*kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Replies to 'stats' with this process's CPU time and RSS; `peak` is the highest RSS the caller has seen. */
export function statsMessage(peakRss: number, requests?: number): ChildMessage {
  const cpu = process.cpuUsage();
  const rss = process.memoryUsage.rss();
  return {
    type: 'stats',
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    rssMb: rss / MB,
    peakRssMb: Math.max(peakRss, rss) / MB,
    ...(requests === undefined ? {} : { requests }),
  };
}
