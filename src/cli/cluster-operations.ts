/**
 * `provisio trigger|stop|clear-cache|suspend|resume TASK --kubernetes`: the operation verbs against a cluster,
 * done the way kubectl users (and Flux's `flux reconcile`) expect: trigger, stop and clear-cache set their
 * annotation to the current time (DESIGN §1); suspend and resume set spec.suspend. Merge patches, so nothing
 * else on the Task is touched. `trigger --wait` then follows status until the controller has handled the
 * request (status.lastHandledReconcileAt) and the run it started has ended.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ANNOTATIONS, type TaskStatus } from '../model/resources.js';
import { apiErrorText, GROUP, PLURALS, VERSION } from '../sources/kubernetes/custom-resources.js';
import { loadKubeConfig } from '../sources/kubernetes/kube-config.js';

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
}

export async function clusterOperation(op: string, task: string, opts: ClusterOperationOptions): Promise<number> {
  const [namespace, name] = task.includes('/') ? task.split('/', 2) : [opts.namespace, task];
  const api = loadKubeConfig(opts.kubeconfig).makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, namespace, plural: PLURALS.Task, name };
  const requestedAt = new Date().toISOString();
  try {
    await api.patchNamespacedCustomObject(
      { ...ref, body: PATCHES[op](requestedAt) },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } catch (e) {
    throw new Error(`cannot ${op} task ${namespace}/${name}: ${apiErrorText(e)}`);
  }
  console.log(`task ${namespace}/${name}: ${op} requested`);
  if (op !== 'trigger' || !opts.wait) return 0;

  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  let runId: string | undefined;
  while (Date.now() < deadline) {
    const obj = (await api.getNamespacedCustomObject(ref)) as { status?: TaskStatus };
    const status = obj.status ?? {};
    if (status.lastHandledReconcileAt === requestedAt) {
      const run = status.lastRun;
      runId ??= run?.id;
      const running = run?.extract?.status === 'Running' || run?.load?.status === 'Running';
      if (run && run.id === runId && !running && status.phase !== 'Running') {
        const ok = run.extract?.status === 'Succeeded' && run.load?.status === 'Succeeded';
        console.log(
          `run ${run.id}: extract ${run.extract?.status} (${run.extract?.info ?? ''}); load ${run.load?.status} (${run.load?.info ?? ''})`,
        );
        return ok ? 0 : 1;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`the run did not finish within ${opts.timeoutSeconds}s; it goes on in the controller`);
  return 1;
}
