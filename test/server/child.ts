/**
 * The `provisio` CLI as a child process (`node --import tsx src/cli/main.ts ...`), the way users run it: real
 * argv, real exit codes, real stdout/stderr, real signals.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../peers/ports.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = 'src/cli/main.ts';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for children: no inherited Provisio settings, quiet logs unless asked. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PROVISIO_')) base[k] = v;
  return { ...base, PROVISIO_LOG_LEVEL: 'warn', ...env };
}

/** Runs one CLI command to its end. */
export function cli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: repoRoot,
      env: childEnv(opts.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`provisio ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningController {
  url: string;
  port: number;
  process: ChildProcess;
  stderr(): string;
  /** Sends a signal and resolves with how the process ended (and how long it took). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/**
 * Starts `provisio run ... --listen 127.0.0.1:PORT` on a free port and waits for /readyz. The port is chosen
 * up front (the CLI takes a fixed one); if another process takes it first, the next free port is tried.
 */
export async function startRun(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<RunningController> {
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', ...args, '--listen', `127.0.0.1:${port}`], {
      cwd: repoRoot,
      env: childEnv(env),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let gone = false;
    void exited.then(() => {
      gone = true;
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    while (!gone && Date.now() < deadline) {
      const ok = await fetch(`${url}/readyz`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) {
        return {
          url,
          port,
          process: child,
          stderr: () => stderr,
          async stop(signal = 'SIGTERM') {
            const t0 = Date.now();
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            const end = await exited;
            return { ...end, ms: Date.now() - t0 };
          },
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!gone) child.kill('SIGKILL');
    await exited;
    lastError = stderr;
    if (!/EADDRINUSE/.test(stderr)) break;
  }
  throw new Error(`provisio run did not become ready:\n${lastError}`);
}
