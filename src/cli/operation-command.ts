/**
 * `provisio trigger|stop|clear-cache|suspend|resume TASK`: operations sent to a running controller.
 * `trigger --wait` follows the run to its end, with a progress line on a terminal (src/cli/progress.ts).
 */
import type { ResourceView } from '../controller/status-view.js';
import type { TaskRunSummary } from '../model/resources.js';
import { UsageError } from './errors.js';
import { type Progress, progressLine } from './progress.js';
import { ApiError, apiCall, notFoundMessage } from './resource-client.js';
import { reportRun, runEnded } from './run-report.js';

export interface OperationOptions {
  server: string;
  namespace: string;
  wait?: boolean;
  /** trigger: a task that already runs is not an error (exit 0). */
  ifIdle?: boolean;
  timeoutSeconds: number;
  /** clear-cache: reset the incremental cursors too. */
  cursor?: boolean;
}

export async function operationCommand(op: string, task: string, opts: OperationOptions): Promise<number> {
  const [ns, name] = task.includes('/') ? task.split('/', 2) : [opts.namespace, task];
  const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/tasks/${encodeURIComponent(name)}`;
  const before = op === 'trigger' ? await taskOrSuggest(opts.server, path, ns, name) : undefined;
  if (before?.spec.usage === 'event' || before?.spec.usage === 'authentication') {
    console.error(
      `task ${ns}/${name} is an ${before.spec.usage} task: it has no scheduled runs to trigger` +
        (before.spec.usage === 'event' ? ` (workflows invoke it: POST ${path}/invoke)` : ''),
    );
    return 1;
  }
  const query = op === 'clear-cache' && opts.cursor ? '?cursor=true' : '';
  const answer = (await call(opts.server, `${path}/${op}${query}`, ns, name)) as { result: string };
  if (op === 'trigger' && (answer.result === 'running' || answer.result === 'queued-already')) {
    const what = answer.result === 'running' ? 'already running' : 'already queued to run';
    console.log(`task ${ns}/${name} is ${what}: trigger ignored`);
    return opts.ifIdle ? 0 : 1;
  }
  console.log(`task ${ns}/${name}: ${op} ${answer.result}`);
  if (!before || !opts.wait) return 0;
  return waitForRun(opts.server, path, (before.status.lastRun as TaskRunSummary | undefined)?.id, opts.timeoutSeconds);
}

/** `suspend connector hr-api`, `trigger task hr-employees` or `trigger hr-employees` (a task, as before). */
export function operationTarget(op: string, args: string[]): { kind: 'Task' | 'Connector'; name: string } {
  if (args.length === 1) return { kind: 'Task', name: args[0] };
  const [type, name, ...rest] = args;
  const kind = /^(tasks?)$/.test(type) ? 'Task' : /^(connectors?)$/.test(type) ? 'Connector' : undefined;
  if (rest.length > 0 || !kind) throw new UsageError(`${op} takes [task|connector] NAME, not "${args.join(' ')}"`);
  if (kind === 'Connector' && op !== 'suspend' && op !== 'resume') {
    throw new UsageError(`${op} works on tasks; a connector can be suspended and resumed (all its tasks)`);
  }
  return { kind, name };
}

/**
 * Suspends or resumes every task of a connector: through the controller (logged there with the caller's token id),
 * or in the cluster by setting the Connector's spec.suspend, which the controller applies to all its tasks.
 */
export async function connectorOperation(
  op: string,
  connector: string,
  opts: { server: string; namespace: string; kubernetes?: boolean; kubeconfig?: string },
): Promise<number> {
  const [ns, name] = connector.includes('/') ? connector.split('/', 2) : [opts.namespace, connector];
  if (opts.kubernetes) {
    const { clusterConnectorSuspend } = await import('./cluster-operations.js');
    await clusterConnectorSuspend(op === 'suspend', ns, name, opts.kubeconfig);
    console.log(`connector ${ns}/${name}: ${op} requested (spec.suspend: ${op === 'suspend'})`);
    return 0;
  }
  const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/connectors/${encodeURIComponent(name)}/${op}`;
  const answer = (await apiCall('POST', opts.server, path)) as { result: string; tasks: string[] };
  const tasks = answer.tasks.length > 0 ? answer.tasks.join(', ') : 'none';
  console.log(`connector ${ns}/${name}: ${answer.result} (tasks: ${tasks})`);
  return 0;
}

async function taskOrSuggest(server: string, path: string, ns: string, name: string): Promise<ResourceView> {
  try {
    return (await apiCall('GET', server, path)) as ResourceView;
  } catch (e) {
    throw await withSuggestion(e, server, ns, name);
  }
}

async function call(server: string, path: string, ns: string, name: string): Promise<unknown> {
  try {
    return await apiCall('POST', server, path);
  } catch (e) {
    throw await withSuggestion(e, server, ns, name);
  }
}

/** A 404 for a task that exists in another namespace says which: `use -n iga`. */
async function withSuggestion(e: unknown, server: string, ns: string, name: string): Promise<unknown> {
  if (!(e instanceof ApiError) || e.status !== 404) return e;
  const all = (await apiCall('GET', server, '/api/v1/tasks').catch(() => ({ items: [] }))) as { items: ResourceView[] };
  const elsewhere = all.items.filter((t) => t.metadata.name === name).map((t) => t.metadata.namespace);
  if (elsewhere.length === 0) return e;
  return new ApiError(404, `controller answered 404: ${notFoundMessage('Task', name, ns, elsewhere)}`);
}

async function waitForRun(server: string, path: string, previousId: string | undefined, timeoutSeconds: number) {
  const tty = process.stdout.isTTY === true;
  let frame = 0;
  const draw = (p: Omit<Progress, 'frame'>) => {
    if (tty) process.stdout.write(`\r${progressLine({ ...p, frame: frame++ }, process.stdout.columns || 80)}\x1b[K`);
  };
  const endLine = () => {
    if (tty && frame > 0) process.stdout.write('\n');
  };
  draw({ records: 0, cards: 0, phase: 'queued' });
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    const v = (await apiCall('GET', server, path)) as ResourceView;
    const run = v.status.lastRun as TaskRunSummary | undefined;
    if (run && run.id !== previousId) {
      const records = run.extract?.records ?? 0;
      const cards = (run.load?.created ?? 0) + (run.load?.updated ?? 0);
      const running = !runEnded(run);
      draw({ records, cards, total: run.extract?.total, phase: running ? 'running' : 'done' });
      if (!running) {
        endLine();
        return reportRun(run);
      }
    } else draw({ records: 0, cards: 0, phase: 'queued' });
    await new Promise((r) => setTimeout(r, 300));
  }
  endLine();
  console.error(`the run did not finish within ${timeoutSeconds}s; it goes on in the controller`);
  return 1;
}
