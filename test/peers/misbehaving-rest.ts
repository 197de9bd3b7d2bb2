/**
 * A REST source that misbehaves on purpose (repeated pages, early empty or short pages, records removed
 * while paging, announced totals that are off, looping or credential-carrying next links), running as a
 * child process of its own and reached over a real socket only, like the sources it stands for. The
 * scenarios are described in misbehaving-rest-server.ts.
 *
 *   const source = await startMisbehavingRest();
 *   await source.scenario({ records: 500, pageSize: 50, paging: 'offset', total: { in: 'header' } });
 *   await source.scenario({ ..., misbehave: { kind: 'emptyPage', page: 4 } });
 *   await source.requests();   // what it served since the last scenario
 *   await source.stop();
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from './misbehaving-rest-server.js';

export type { Misbehaviour, Scenario } from './misbehaving-rest-server.js';

export interface MisbehavingRest {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  /** Sets what the source serves from now on; the record set is rebuilt and the request log cleared. */
  scenario(s: Scenario): Promise<void>;
  /** Requests served since the last scenario (method and raw URL). */
  requests(): Promise<Array<{ method: string; url: string }>>;
  stop(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

export async function startMisbehavingRest(timeoutMs = 15_000): Promise<MisbehavingRest> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'misbehaving-rest-server.ts')], {
    cwd: join(here, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`misbehaving REST source did not start: ${output}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = /listening (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`misbehaving REST source exited (${code}): ${output.slice(0, 500)}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pid: child.pid ?? -1,
    async scenario(s) {
      const res = await fetch(`${url}/__scenario`, { method: 'PUT', body: JSON.stringify(s) });
      if (!res.ok) throw new Error(`scenario refused: ${res.status} ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
    },
    async requests() {
      const res = await fetch(`${url}/__requests`);
      return (await res.json()) as Array<{ method: string; url: string }>;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
