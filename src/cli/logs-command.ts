/**
 * `provisio logs TASK [--run ID] [-f]`: a task's recent log lines from the running controller (its status API
 * keeps a bounded ring per task, ADR 0010), as `kubectl logs` prints a pod's: one line each, oldest first;
 * `-f` keeps following until interrupted.
 */
import type { TaskLogLine } from '../log/task-log-ring.js';
import { apiCall } from './resource-client.js';

export interface LogsOptions {
  server: string;
  namespace: string;
  run?: string;
  follow?: boolean;
  /** How often `-f` asks for new lines. */
  pollMs?: number;
}

/** "2026-12-03T12:00:01.000Z INFO  [run 20261203...] run in progress: 5000 records read, ..." */
export function formatLogLine(l: TaskLogLine): string {
  return `${l.time} ${l.level.toUpperCase().padEnd(5)} ${l.run ? `[run ${l.run}] ` : ''}${l.msg}`;
}

export async function logsCommand(task: string, opts: LogsOptions): Promise<number> {
  const [ns, name] = task.includes('/') ? task.split('/', 2) : [opts.namespace, task];
  const path = (after?: number) => {
    const q = new URLSearchParams();
    if (opts.run) q.set('run', opts.run);
    if (after !== undefined) q.set('after', String(after));
    const qs = q.toString();
    return `/api/v1/namespaces/${encodeURIComponent(ns)}/tasks/${encodeURIComponent(name)}/logs${qs ? `?${qs}` : ''}`;
  };
  let last: number | undefined;
  const print = async () => {
    const { items } = (await apiCall('GET', opts.server, path(last))) as { items: TaskLogLine[] };
    for (const l of items) process.stdout.write(`${formatLogLine(l)}\n`);
    if (items.length > 0) last = items[items.length - 1].seq;
  };
  await print();
  if (!opts.follow) return 0;
  // Followed until Ctrl-C (or the controller goes away, which apiCall reports).
  for (;;) {
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    await print();
  }
}
