/**
 * `provisio trigger|stop|clear-cache|suspend|resume TASK`: operations sent to a running controller.
 * `trigger --wait` follows the run to its end, with a progress bar on a terminal.
 */
import { SingleBar } from 'cli-progress';
import type { ResourceView } from '../controller/status-view.js';
import type { TaskRunSummary } from '../model/resources.js';
import { apiCall } from './resource-client.js';
import { reportRun, runEnded } from './run-report.js';

export interface OperationOptions {
  server: string;
  namespace: string;
  wait?: boolean;
  timeoutSeconds: number;
  /** clear-cache: reset the incremental cursors too. */
  cursor?: boolean;
}

export async function operationCommand(op: string, task: string, opts: OperationOptions): Promise<number> {
  const [ns, name] = task.includes('/') ? task.split('/', 2) : [opts.namespace, task];
  const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/tasks/${encodeURIComponent(name)}`;
  const before =
    op === 'trigger' && opts.wait ? ((await apiCall('GET', opts.server, path)) as ResourceView) : undefined;
  const query = op === 'clear-cache' && opts.cursor ? '?cursor=true' : '';
  const answer = (await apiCall('POST', opts.server, `${path}/${op}${query}`)) as { result: string };
  console.log(`task ${ns}/${name}: ${op} ${answer.result}`);
  if (!before) return 0;
  return waitForRun(opts.server, path, (before.status.lastRun as TaskRunSummary | undefined)?.id, opts.timeoutSeconds);
}

async function waitForRun(server: string, path: string, previousId: string | undefined, timeoutSeconds: number) {
  const tty = process.stdout.isTTY === true;
  const bar = tty
    ? new SingleBar({ format: ' {bar} {value} records read | {cards} cards written | {phase}', hideCursor: true })
    : undefined;
  bar?.start(0, 0, { cards: 0, phase: 'queued' });
  const deadline = Date.now() + timeoutSeconds * 1000;
  try {
    while (Date.now() < deadline) {
      const v = (await apiCall('GET', server, path)) as ResourceView;
      const run = v.status.lastRun as TaskRunSummary | undefined;
      if (run && run.id !== previousId) {
        const records = run.extract?.records ?? 0;
        const cards = (run.load?.created ?? 0) + (run.load?.updated ?? 0);
        const running = !runEnded(run);
        // The total is unknown while the source pages; keep the bar full-width at the current count.
        bar?.setTotal(Math.max(records, 1));
        bar?.update(records, { cards, phase: running ? 'running' : 'done' });
        if (!running) {
          bar?.stop();
          return reportRun(run);
        }
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    bar?.stop();
    console.error(`the run did not finish within ${timeoutSeconds}s; it goes on in the controller`);
    return 1;
  } finally {
    bar?.stop();
  }
}
