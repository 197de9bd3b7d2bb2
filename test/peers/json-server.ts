/**
 * json-server@0.17.4 as a real REST peer (see shared/reference/test-peers.md). Each instance runs as a
 * child process from its own temp copy of the database (json-server writes back on mutations), on a
 * random free port, and is stopped by its PID.
 *
 * Paging it serves: `_page` + `_limit` (Link header with rel first/prev/next/last, X-Total-Count),
 * `_start` + `_limit` or `_end` (X-Total-Count, no Link); also `field_gte=`, `_sort`, `_order`.
 *
 *   const js = await startJsonServer({ users: [{ id: 1 }] });
 *   await fetch(`${js.url}/users?_page=1&_limit=10`);
 *   await js.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './ports.js';

export interface JsonServerPeer {
  /** http://127.0.0.1:PORT, without a trailing slash. */
  url: string;
  port: number;
  pid: number;
  /** Temp directory holding db.json. */
  dir: string;
  stop(): Promise<void>;
}

export interface JsonServerOptions {
  /** How long to wait for the server to answer (default 15 s). */
  startTimeoutMs?: number;
}

const binPath = (): string =>
  join(dirname(createRequire(import.meta.url).resolve('json-server/package.json')), 'lib', 'cli', 'bin.js');

/** Rows `{ id: 1, name: 'user 1', ... }` for 1..n; `extra(i)` adds fields. */
export function numberedRows(
  n: number,
  extra: (i: number) => Record<string, unknown> = () => ({}),
): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, k) => ({ id: k + 1, name: `user ${k + 1}`, ...extra(k + 1) }));
}

export async function startJsonServer(
  db: Record<string, unknown>,
  options: JsonServerOptions = {},
): Promise<JsonServerPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'provisio-json-server-'));
  await writeFile(join(dir, 'db.json'), JSON.stringify(db));
  let lastError: unknown;
  // The free port can be taken between probing and binding; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [binPath(), 'db.json', '--host', '127.0.0.1', '--port', String(port), '--quiet'],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilAnswering(url, child, options.startTimeoutMs ?? 15_000, () => output);
      return { url, port, pid: child.pid ?? -1, dir, stop: () => stopChild(child, dir) };
    } catch (e) {
      lastError = e;
      await stopChild(child, undefined);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function waitUntilAnswering(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`json-server exited (${child.exitCode ?? child.signalCode}): ${output().slice(0, 500)}`);
    }
    try {
      const res = await fetch(`${url}/db`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`json-server did not answer on ${url} within ${timeoutMs} ms: ${output().slice(0, 500)}`);
}

async function stopChild(child: ChildProcess, dir: string | undefined): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}
