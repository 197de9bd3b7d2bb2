/**
 * The cluster connection of Kubernetes mode: in a pod, the service account's in-cluster config; outside,
 * the kubeconfig that kubectl would use ($KUBECONFIG or ~/.kube/config), or an explicit file.
 */
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error(
      'no Kubernetes cluster configured: run in a pod with a service account, set KUBECONFIG, or pass --kubeconfig FILE',
    );
  }
  return kc;
}

/** Where the controller's own objects (its Lease) live: the pod's namespace when in a pod. */
export function ownNamespace(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAMESPACE ?? 'default';
}
