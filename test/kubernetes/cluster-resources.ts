/** Connectors and Tasks created in the fake API server as `kubectl create -f` would: YAML text or an object. */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { GROUP, PLURALS, VERSION } from '../../src/kube/custom-resources.js';
import type { Kind } from '../../src/model/resources.js';

export async function createResource(kc: KubeConfig, namespace: string, resource: string | object): Promise<void> {
  const body = (typeof resource === 'string' ? parse(resource) : resource) as { kind: Kind };
  await kc
    .makeApiClient(CustomObjectsApi)
    .createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS[body.kind], body });
}
