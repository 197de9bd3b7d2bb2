/**
 * A real Redis (Debian redis-server) for tests: its own port and temp dir, no persistence unless asked for
 * (`appendonly`: AOF, fsynced at every write), stopped by PID. `crash()` kills it with SIGKILL and keeps its
 * directory, so `restart()` starts it again on the same port from what it persisted.
 * `npm test` (scripts/ensure-test-peers.mjs) installs redis-server on a fresh machine.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';

const run = promisify(execFile);

export interface RedisPeer {
  url: string;
  port: number;
  /** A client of the test's own (closed by stop()). */
  client: Redis;
  /** Stops the server (SIGTERM, or SIGKILL for a crash) and resolves once its process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Kills the server with SIGKILL, keeping its directory (and AOF), and resolves once it is gone. */
  crash(): Promise<void>;
  /** Starts the server again on the same port and directory, after crash(). */
  restart(): Promise<void>;
}

export async function startRedis(options: { password?: string; appendonly?: boolean } = {}): Promise<RedisPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'provisio-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'yes'];
  args.push('--appendonly', options.appendonly ? 'yes' : 'no');
  if (options.appendonly) args.push('--appendfsync', 'always');
  args.push('--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'), '--dir', dir);
  if (options.password) args.push('--requirepass', options.password);
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = `redis://${auth}127.0.0.1:${port}/0`;
  // The test's own client sees the connection drop when a test crashes or stops the server on purpose.
  const quiet = (c: Redis): Redis => c.on('error', () => {});
  let client = quiet(new Redis(url, { lazyConnect: true }));

  const launch = async (): Promise<void> => {
    await run('redis-server', args);
    client = quiet(new Redis(url, { lazyConnect: true }));
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        client.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    client.disconnect();
    let pid: number | undefined;
    try {
      pid = Number(readFileSync(join(dir, 'redis.pid'), 'utf8').trim());
      process.kill(pid, signal);
    } catch {
      // already gone
    }
    // Callers go on to test what happens without Redis: it must really be gone (a daemon, not our child).
    const until = Date.now() + 10_000;
    while (pid !== undefined && Date.now() < until) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  await launch();
  const peer: RedisPeer = {
    url,
    port,
    get client() {
      return client;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      await kill(signal);
      rmSync(dir, { recursive: true, force: true });
    },
    crash: () => kill('SIGKILL'),
    restart: launch,
  };
  return peer;
}
