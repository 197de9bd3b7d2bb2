/**
 * The Kubernetes source: informers on Connectors and Tasks (all namespaces, or the ones given), validated
 * with the same schema, CEL and cross-resource checks as git mode, applied to the store.
 *
 * Why the whole set is revalidated on each (debounced) change: a Task's validity depends on its Connector.
 * Why status-only changes are ignored: the controller's own status writes come back as MODIFIED events, and
 * reacting to them would loop. A watch that breaks (connection loss, an error) is restarted with backoff from
 * its last resourceVersion; one that is too old (410 Gone) makes the informer list again, and objects missing
 * from the new list are reported deleted, so nothing is missed or applied twice.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { apiErrorText, GROUP, PLURALS, VERSION } from '../../kube/custom-resources.js';
import type { Logger } from '../../log/logger.js';
import { API_VERSION, type Connector, KINDS, type Kind, keyOf, type Task } from '../../model/resources.js';
import type { SecretResolver } from '../../secrets/resolver.js';
import type { ResourceStore } from '../../store/resource-store.js';
import type { Diagnostic } from '../../validation/diagnostics.js';
import { parseDocuments } from '../../validation/documents.js';
import type { TypeRules } from '../../validation/type-rules.js';
import { validateDocuments } from '../../validation/validate.js';
import type { ResourceSource } from '../source.js';
import { StoreSync } from '../store-sync.js';

const PAGE_SIZE = 500;

/** A Connector or Task as the API server returns it. */
export interface ClusterObject extends KubernetesObject {
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string; namespace: string };
  spec?: unknown;
  status?: Record<string, unknown>;
}

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; empty for all. */
  namespaces: readonly string[];
  store: ResourceStore;
  /** The connector types' rules, for validation (connectors/registry.ts `typeRules`). */
  types: TypeRules;
  secrets?: SecretResolver;
  log: Logger;
  debounceMs?: number;
  /** First delay before restarting a broken watch; doubles up to 30 s. */
  restartDelayMs?: number;
}

type Informer = ReturnType<typeof makeInformer<ClusterObject>>;

export class KubernetesSource implements ResourceSource {
  readonly description: string;
  readonly revision = undefined;
  private readonly api: CustomObjectsApi;
  private readonly informers: Array<{ kind: Kind; namespace?: string; informer: Informer }> = [];
  private readonly objects = new Map<string, ClusterObject>();
  private readonly storeSync: StoreSync;
  private timer?: NodeJS.Timeout;
  private applying: Promise<void> = Promise.resolve();
  private closed = false;
  private following = false;

  constructor(private readonly opts: KubernetesSourceOptions) {
    this.api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    this.storeSync = new StoreSync(opts.store, opts.log, 'resource deleted from the cluster');
    const where = opts.namespaces.length > 0 ? `namespaces ${opts.namespaces.join(', ')}` : 'all namespaces';
    this.description = `Kubernetes API ${opts.kubeConfig.getCurrentCluster()?.server ?? ''} (${where})`;
  }

  /** The object as last seen from the API server (status included), for the status writer. */
  object(kind: Kind, key: string): ClusterObject | undefined {
    return this.objects.get(`${kind} ${key}`);
  }

  /** Keys of the objects of a kind seen from the API server. */
  keys(kind: Kind): string[] {
    return [...this.objects.values()].filter((o) => o.kind === kind).map((o) => keyOf(o));
  }

  async load(): Promise<void> {
    const scopes = this.opts.namespaces.length > 0 ? this.opts.namespaces : [undefined];
    for (const kind of KINDS) {
      for (const namespace of scopes)
        this.informers.push({ kind, namespace, informer: this.informer(kind, namespace) });
    }
    // start() lists, then watches in the background: after it, every object that exists now is known.
    await Promise.all(this.informers.map((i) => i.informer.start()));
    await this.sync();
  }

  async watch(): Promise<void> {
    this.following = true;
    this.schedule(); // what changed since load()
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.all(this.informers.map((i) => i.informer.stop()));
    await this.applying;
  }

  private informer(kind: Kind, namespace: string | undefined): Informer {
    const plural = PLURALS[kind];
    const path = namespace
      ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`
      : `/apis/${GROUP}/${VERSION}/${plural}`;
    const informer = makeInformer<ClusterObject>(this.opts.kubeConfig, path, () => this.list(kind, namespace));
    const changed = (obj: ClusterObject) => {
      const id = `${kind} ${keyOf(obj)}`;
      this.objects.set(id, { ...obj, kind });
      this.schedule();
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', (obj) => {
      this.objects.delete(`${kind} ${keyOf(obj)}`);
      this.schedule();
    });
    let delay = this.opts.restartDelayMs ?? 1000;
    informer.on('connect', () => {
      delay = this.opts.restartDelayMs ?? 1000;
    });
    informer.on('error', (err: unknown) => {
      if (this.closed) return;
      this.opts.log.warn(
        { resource: plural, namespace: namespace ?? '*', err: apiErrorText(err), retryInMs: delay },
        `lost the watch on ${plural}; restarting it`,
      );
      setTimeout(() => {
        if (!this.closed) informer.start().catch(() => {}); // a failure ends in 'error' again
      }, delay).unref();
      delay = Math.min(delay * 2, 30_000);
    });
    return informer;
  }

  /** Lists every object of a kind, page by page (KubernetesObjectApi drops `continue` for custom resources). */
  private async list(kind: Kind, namespace: string | undefined): Promise<KubernetesListObject<ClusterObject>> {
    const plural = PLURALS[kind];
    const items: ClusterObject[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = (await (namespace
        ? this.api.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace,
            plural,
            limit: PAGE_SIZE,
            _continue: cont,
          })
        : this.api.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural,
            limit: PAGE_SIZE,
            _continue: cont,
          }))) as KubernetesListObject<ClusterObject>;
      items.push(...page.items);
      cont = page.metadata?._continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont);
    return { apiVersion: API_VERSION, kind: `${kind}List`, metadata: { resourceVersion }, items };
  }

  private schedule(): void {
    if (!this.following || this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.applying = this.applying
        .then(() => this.sync())
        .catch((e: unknown) => {
          this.opts.log.error({ err: apiErrorText(e) }, 'applying changes from the cluster failed');
        });
    }, this.opts.debounceMs ?? 200);
  }

  /** Validates the whole set and brings the store in line with it. */
  private async sync(): Promise<void> {
    const docs = [...this.objects.values()].map((o) => ({
      sd: parseDocuments(`${o.kind} ${keyOf(o)}`, stringify(declaredPart(o))).documents[0],
      diskFile: '',
    }));
    const result = await validateDocuments(docs, { types: this.opts.types, secrets: this.opts.secrets });
    // Positions in a re-serialized object mean nothing to a kubectl user: findings name the field only.
    const byField = (ds: Diagnostic[]) => ds.map((d) => ({ ...d, file: '', line: 0, col: 0 }));
    this.storeSync.apply(
      result.resources.map((r) => {
        const key = keyOf(r.resource);
        const errors = byField(r.errors);
        return {
          kind: r.kind,
          key,
          declared: r.resource as Connector | Task,
          valid: errors.length === 0,
          errors,
          warnings: byField(r.warnings),
          generation: this.objects.get(`${r.kind} ${key}`)?.metadata.generation,
        };
      }),
    );
  }
}

/** What the user declared: no status and none of the server's bookkeeping except generation. */
function declaredPart(o: ClusterObject): Record<string, unknown> {
  const { name, namespace, labels, annotations, generation } = o.metadata;
  return {
    apiVersion: o.apiVersion ?? API_VERSION,
    kind: o.kind,
    metadata: {
      name,
      namespace,
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations: withoutKubectlNoise(annotations) } : {}),
      ...(generation !== undefined ? { generation } : {}),
    },
    spec: o.spec,
  };
}

/** kubectl apply keeps the whole last-applied object in an annotation: not the user's, and large. */
function withoutKubectlNoise(annotations: Record<string, string>): Record<string, string> {
  const { 'kubectl.kubernetes.io/last-applied-configuration': _ignored, ...rest } = annotations;
  return rest;
}
