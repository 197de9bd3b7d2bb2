/**
 * Resources as `kubectl get -o yaml` prints them (apiVersion, kind, metadata, spec, status) and as
 * `provisio export` writes them (no status, nothing the controller added): both validate as they are.
 * Where a resource came from goes under metadata.annotations, not at the top level, where the schema
 * (and the API server) refuse unknown fields.
 */
import type { ResourceView } from '../controller/status-view.js';
import { ANNOTATIONS, API_VERSION } from '../model/resources.js';

/** Provenance annotations `get -o yaml|json` adds (and `export` leaves out). */
export const PROVENANCE = {
  source: 'provisio.dev/source',
  revision: 'provisio.dev/revision',
} as const;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** The object `get -o yaml|json` prints. */
export function objectOf(v: ResourceView): KubeObject {
  const annotations: Record<string, string> = { ...(v.metadata.annotations ?? {}) };
  if (v.source) annotations[PROVENANCE.source] = `${v.source.file}:${v.source.line}`;
  if (v.source?.revision) annotations[PROVENANCE.revision] = v.source.revision;
  return {
    apiVersion: v.apiVersion ?? API_VERSION,
    kind: v.kind,
    metadata: {
      name: v.metadata.name,
      namespace: v.metadata.namespace,
      generation: v.metadata.generation,
      ...(v.metadata.labels ? { labels: v.metadata.labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: v.spec,
    status: v.status,
  };
}

/** Annotations that belong to one installation: requested operations and provenance. */
const LOCAL_ANNOTATIONS = new Set<string>([...Object.values(ANNOTATIONS), ...Object.values(PROVENANCE)]);

/**
 * The object `export` writes for applying elsewhere (test → prod): the declared spec only. Secrets are never in
 * a spec (only secretRef names), so none can leak; status, generation and requested operations stay behind.
 */
export function exportedOf(v: ResourceView): KubeObject {
  const annotations = Object.fromEntries(
    Object.entries(v.metadata.annotations ?? {}).filter(([k]) => !LOCAL_ANNOTATIONS.has(k)),
  );
  return {
    apiVersion: v.apiVersion ?? API_VERSION,
    kind: v.kind,
    metadata: {
      name: v.metadata.name,
      namespace: v.metadata.namespace,
      ...(v.metadata.labels ? { labels: v.metadata.labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: v.spec,
  };
}
