/**
 * A fake kube-apiserver for tests, because no real one can run here. It serves the Provisio CRDs (loaded from
 * `crds/*.yaml`), Secrets, Events (core/v1 and events.k8s.io/v1), Leases and Namespaces over plain HTTP on
 * 127.0.0.1, and is driven only through the real @kubernetes/client-node over HTTP. Where a controller depends on
 * it, it behaves like the real server: resourceVersion and generation semantics, the status subresource,
 * merge/JSON patch, 409/422/410 Status errors with the real messages, watches with history and 410 Gone, CRD
 * schema validation and pruning. See test/peers/README.md for what it does not do.
 *
 *   const api = await startFakeApiServer({ namespaces: ['iga'] });
 *   const kc = api.kubeConfig();                       // a KubeConfig for client-node
 *   api.apply(task);                                   // seed objects through the same write path as HTTP
 *   api.closeWatches(); api.compactHistory();          // connection loss; 410 for old resourceVersions
 *   api.fault({ method: 'PATCH', path: /\/status$/, status: 409 });
 *   api.requests.filter((r) => r.method === 'PATCH');  // what the client sent
 *   await api.close();
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { builtinTypes } from './builtins.js';
import { type Fault, FaultInjector } from './faults.js';
import { clone, type KubeObject } from './json.js';
import { Registry } from './registry.js';
import { loadCrds, TypeRegistry } from './resources.js';
import { createHandler, type RecordedRequest } from './server.js';
import { Store, type WriteRecord } from './store.js';
import { WatchHub } from './watch.js';

export type { Fault } from './faults.js';
export type { KubeObject } from './json.js';
export type { RecordedRequest } from './server.js';
export { ApiError, type Status } from './status.js';
export type { WriteRecord } from './store.js';

export interface FakeApiServerOptions {
  /** Bearer token the server accepts (default `provisio-test-token`). */
  token?: string;
  /** CRD YAML files or directories (default: the repository's `crds/`). */
  crds?: string[];
  /** Namespaces that exist from the start (default: default, kube-system, kube-public, kube-node-lease). */
  namespaces?: string[];
  /** Creating in a missing namespace answers 404 like the real server (default true). */
  requireNamespace?: boolean;
  /** Requests without a token get 403 as system:anonymous instead of 401 (default false). */
  anonymousAuth?: boolean;
  /** Changes kept for watches and continue tokens (default 1000). */
  historySize?: number;
  /** The resourceVersion before the first write (default 1000). */
  initialResourceVersion?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 60 s, as the real server). */
  bookmarkIntervalMs?: number;
  /** Server-side watch timeout when the client gives no timeoutSeconds (default 1800 s). */
  watchTimeoutSeconds?: number;
  /** Largest object etcd would store (default 1.5 MiB). */
  maxObjectBytes?: number;
}

export interface FakeApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** A KubeConfig for client-node pointing at this server (context namespace and token overridable). */
  kubeConfig(options?: { namespace?: string; token?: string }): KubeConfig;
  /** Copies of the objects of a type (kind, plural, singular or short name), optionally in one namespace. */
  objects(kindOrPlural: string, namespace?: string): KubeObject[];
  /** A copy of one object, or undefined. */
  get(kindOrPlural: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /**
   * Creates or updates an object through the same path as HTTP writes (watches see it; validation applies). A
   * missing namespace is created first. For a resource with a status subresource, a given status is written
   * through it afterwards. A resourceVersion in the object is a precondition; without one the write is
   * unconditional. Throws ApiError.
   */
  apply(object: KubeObject): KubeObject;
  /** Deletes through the same path as HTTP deletes (finalizers apply); false when it did not exist. */
  delete(kindOrPlural: string, namespace: string | undefined, name: string): boolean;
  /** The current (last written) resourceVersion. */
  readonly resourceVersion: string;
  /** Ends every open watch: cleanly, or with `abrupt` by destroying the connection. Returns how many. */
  closeWatches(options?: { abrupt?: boolean }): number;
  /** Open watch streams. */
  readonly watchCount: number;
  /** Resolves once at least n watches are open (e.g. an informer reconnected). */
  waitForWatches(n: number, timeoutMs?: number): Promise<void>;
  /** Forgets the change history: a watch or continue token from an older resourceVersion gets 410 Gone. */
  compactHistory(): void;
  /** Sends a BOOKMARK now on every watch that asked for bookmarks. */
  bookmark(): void;
  /** Every request received: method, path, query, content type, parsed body, status answered. */
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  /** Every committed write (ADDED/MODIFIED/DELETED with its resourceVersion; subresource 'status'). */
  readonly writes: WriteRecord[];
  /** Injects a fault for the next matching request(s). */
  fault(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const DEFAULT_CRDS = fileURLToPath(new URL('../../../crds', import.meta.url));

export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const token = options.token ?? 'provisio-test-token';
  const types = new TypeRegistry([...builtinTypes(), ...loadCrds(options.crds ?? [DEFAULT_CRDS])]);
  const store = new Store(options.initialResourceVersion ?? 1000, options.historySize ?? 1000);
  const registry = new Registry(store, types, {
    requireNamespace: options.requireNamespace ?? true,
    maxObjectBytes: options.maxObjectBytes ?? 1536 * 1024,
  });
  const hub = new WatchHub(registry, {
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    defaultTimeoutSeconds: options.watchTimeoutSeconds ?? 1800,
  });
  const faults = new FaultInjector();
  const requests: RecordedRequest[] = [];
  const namespaceType = types.lookup('Namespace');
  const ensureNamespace = (ns: string) => {
    if (!store.get(namespaceType.storage, undefined, ns)) {
      registry.create(namespaceType, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
  };
  for (const ns of options.namespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    ensureNamespace(ns);
  }

  let address = '';
  const server = createServer(
    createHandler({
      registry,
      hub,
      faults,
      token,
      anonymousAuth: options.anonymousAuth ?? false,
      requests,
      serverAddress: () => address,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const url = `http://${address}`;

  const api: FakeApiServer = {
    url,
    port,
    token,
    kubeConfig(o = {}) {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'fake', token: o.token ?? token }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake', namespace: o.namespace }],
        currentContext: 'fake',
      });
      return kc;
    },
    objects(kindOrPlural, namespace) {
      const type = types.lookup(kindOrPlural);
      return store.list(type.storage, type.namespaced ? namespace : undefined).map((o) => registry.external(type, o));
    },
    get(kindOrPlural, namespace, name) {
      const type = types.lookup(kindOrPlural);
      const o = store.get(type.storage, type.namespaced ? namespace : undefined, name);
      return o ? registry.external(type, o) : undefined;
    },
    apply(object) {
      const type = types.forObject(String(object.apiVersion), String(object.kind));
      if (!type) throw new Error(`fake kube-apiserver: no resource type for ${object.apiVersion} ${object.kind}`);
      const name = String(object.metadata?.name ?? '');
      const ns = type.namespaced ? (object.metadata?.namespace ?? 'default') : undefined;
      if (ns) ensureNamespace(ns);
      const body = clone(object);
      let result: KubeObject;
      if (!store.get(type.storage, ns, name)) {
        delete body.metadata.resourceVersion;
        result = registry.create(type, ns, body).object as KubeObject;
      } else {
        body.metadata.resourceVersion ??= registry.get(type, ns, name).metadata.resourceVersion;
        result = registry.update(type, ns, name, body).object as KubeObject;
      }
      if (type.statusSubresource && object.status !== undefined) {
        const withStatus = { ...result, status: clone(object.status) };
        result = registry.update(type, ns, name, withStatus, { subresource: 'status' }).object as KubeObject;
      }
      return result;
    },
    delete(kindOrPlural, namespace, name) {
      const type = types.lookup(kindOrPlural);
      if (!store.get(type.storage, type.namespaced ? namespace : undefined, name)) return false;
      registry.delete(type, namespace, name);
      return true;
    },
    get resourceVersion() {
      return String(store.resourceVersion);
    },
    closeWatches: (o = {}) => hub.closeAll(o.abrupt ?? false),
    get watchCount() {
      return hub.count;
    },
    async waitForWatches(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (hub.count < n) {
        if (Date.now() > deadline) {
          throw new Error(`fake kube-apiserver: ${hub.count} open watches after ${timeoutMs} ms, wanted ${n}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    compactHistory: () => store.compact(),
    bookmark: () => hub.bookmarkAll(),
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    writes: store.writes,
    fault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    async close() {
      hub.closeAll(true);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
