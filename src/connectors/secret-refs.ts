/** Collects the secret references of a connector block, with the field path each sits at. */
import type { Connector, ConnectorType, SecretRef } from '../model/resources.js';

export type FoundSecretRef = { ref: SecretRef; field: string[] };

/** Walks a block and returns every `secretRef`, `caSecretRef` and `parametersSecretRef` it holds. */
export function findSecretRefs(block: unknown, path: string[]): FoundSecretRef[] {
  const found: FoundSecretRef[] = [];
  const visit = (node: unknown, at: string[]): void => {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return;
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (/secretRef$/i.test(k) && v && typeof v === 'object' && typeof (v as SecretRef).name === 'string') {
        found.push({ ref: v as SecretRef, field: [...at, k] });
      } else visit(v, [...at, k]);
    }
  };
  visit(block, path);
  return found;
}

/** The secret references of a connector: its webApi credentials and its type block. */
export const connectorSecretRefs =
  (type: ConnectorType) =>
  (c: Connector): FoundSecretRef[] => [
    ...findSecretRefs(c.spec.webApi, ['spec', 'webApi']),
    ...findSecretRefs(c.spec[type], ['spec', type]),
  ];
