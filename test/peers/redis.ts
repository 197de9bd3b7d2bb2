/**
 * A real Redis (Debian redis-server) for tests: its own port and temp dir, no persistence, stopped by PID.
 * `.ci/run` installs redis-server on a fresh machine.
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
}

export async function startRedis(options: { password?: string } = {}): Promise<RedisPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'provisio-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'yes',
  ];
  args.push('--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'), '--dir', dir);
  if (options.password) args.push('--requirepass', options.password);
  await run('redis-server', args);
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = `redis://${auth}127.0.0.1:${port}/0`;
  const client = new Redis(url, { lazyConnect: true });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      client.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    port,
    client,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
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
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
