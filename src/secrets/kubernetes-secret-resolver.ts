/**
 * Secrets in Kubernetes mode: read on demand with the controller's service account (RBAC: get on secrets
 * in the watched namespaces), never listed or watched, never cached here (connector sessions cache what
 * they built from them, and drop it on a 401 so a rotated secret is read again).
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiErrorCode } from '../kube/custom-resources.js';
import { type SecretData, SecretNotFoundError, type SecretResolver } from './resolver.js';

export class KubernetesSecretResolver implements SecretResolver {
  private readonly api: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  async get(namespace: string, name: string): Promise<SecretData> {
    let secret: Awaited<ReturnType<CoreV1Api['readNamespacedSecret']>>;
    try {
      secret = await this.api.readNamespacedSecret({ name, namespace });
    } catch (e) {
      const code = apiErrorCode(e);
      if (code === 404) throw new SecretNotFoundError(namespace, name);
      // Never the body: an error answer could echo what was asked for.
      throw new Error(`cannot read secret "${name}" in namespace "${namespace}"${code ? ` (HTTP ${code})` : ''}`);
    }
    const data: SecretData = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
    for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = v;
    return data;
  }

  async exists(namespace: string, name: string): Promise<boolean> {
    try {
      await this.get(namespace, name);
      return true;
    } catch (e) {
      if (e instanceof SecretNotFoundError) return false;
      // Forbidden or unreachable: cannot tell, and "not found" would be a wrong warning. Using it will say why.
      return true;
    }
  }
}
