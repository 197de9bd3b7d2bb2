/**
 * `provisio trigger|stop|clear-cache|suspend|resume TASK --kubernetes`: the operation verbs against a cluster,
 * done the way kubectl users (and Flux's `flux reconcile`) expect: trigger, stop and clear-cache set their
 * annotation to the current time (DESIGN §1); suspend and resume set spec.suspend. Merge patches, so nothing
 * else on the Task is touched. `trigger --wait` then follows status until a run newer than the last one
 * before the request has ended.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { apiErrorText, GROUP, PLURALS, VERSION } from '../kube/custom-resources.js';
import { loadKubeConfig } from '../kube/kube-config.js';
import { ANNOTATIONS, type TaskStatus } from '../model/resources.js';
import { reportRun, runEnded } from './run-report.js';

const PATCHES: Record<string, (now: string) => Record<string, unknown>> = {
  trigger: (now) => ({ metadata: { annotations: { [ANNOTATIONS.requestedAt]: now } } }),
  stop: (now) => ({ metadata: { annotations: { [ANNOTATIONS.stopRequestedAt]: now } } }),
  'clear-cache': (now) => ({ metadata: { annotations: { [ANNOTATIONS.clearCacheRequestedAt]: now } } }),
  suspend: () => ({ spec: { suspend: true } }),
  resume: () => ({ spec: { suspend: false } }),
};

export interface ClusterOperationOptions {
  namespace: string;
  kubeconfig?: string;
  wait?: boolean;
  timeoutSeconds: number;
  /** clear-cache --cursor: the cursor-reset annotation instead of the plain clear. */
  cursor?: boolean;
}

export async function clusterOperation(op: string, task: string, opts: ClusterOperationOptions): Promise<number> {
  const [namespace, name] = task.includes('/') ? task.split('/', 2) : [opts.namespace, task];
  const api = loadKubeConfig(opts.kubeconfig).makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, namespace, plural: PLURALS.Task, name };
  const getStatus = async () => ((await api.getNamespacedCustomObject(ref)) as { status?: TaskStatus }).status ?? {};
  const wait = op === 'trigger' && opts.wait;
  let previousRun: string | undefined;
  try {
    // The run to wait for is the first one after the current last run.
    if (wait) previousRun = (await getStatus()).lastRun?.id;
    const requestedAt = new Date().toISOString();
    await api.patchNamespacedCustomObject(
      {
        ...ref,
        body:
          op === 'clear-cache' && opts.cursor
            ? { metadata: { annotations: { [ANNOTATIONS.clearCursorRequestedAt]: requestedAt } } }
            : PATCHES[op](requestedAt),
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } catch (e) {
    throw new Error(`cannot ${op} task ${namespace}/${name}: ${apiErrorText(e)}`);
  }
  console.log(`task ${namespace}/${name}: ${op} requested`);
  if (!wait) return 0;

  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    const run = (await getStatus()).lastRun;
    if (run && run.id !== previousRun && runEnded(run)) return reportRun(run);
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`the run did not finish within ${opts.timeoutSeconds}s; it goes on in the controller`);
  return 1;
}

/** `suspend|resume connector NAME --kubernetes`: spec.suspend on the Connector suspends all its tasks. */
export async function clusterConnectorSuspend(
  suspend: boolean,
  namespace: string,
  name: string,
  kubeconfig?: string,
): Promise<void> {
  const api = loadKubeConfig(kubeconfig).makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, namespace, plural: PLURALS.Connector, name };
  try {
    await api.patchNamespacedCustomObject(
      { ...ref, body: { spec: { suspend } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } catch (e) {
    throw new Error(`cannot ${suspend ? 'suspend' : 'resume'} connector ${namespace}/${name}: ${apiErrorText(e)}`);
  }
}
