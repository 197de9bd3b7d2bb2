/**
 * Status in Kubernetes mode: the status subresource of each Connector and Task. The controller writes
 * records synchronously, as in git mode; this store keeps them in memory and sends each change to the API
 * server as a merge patch of only what changed (a key that disappeared is sent as null), in the background,
 * one request in flight per object, coalescing writes that arrive meanwhile. Nothing changed: nothing sent.
 * Failed writes are retried with backoff (5xx, 429, 409, connection loss); an object that is gone (404) is
 * dropped. On first use, a record starts from the object's status as the informer saw it, so run history
 * survives a restart or a failover to another replica.
 */
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { apiErrorCode, apiErrorMessage, GROUP, PLURALS, VERSION } from '../kube/custom-resources.js';
import type { Logger } from '../log/logger.js';
import type { Kind } from '../model/resources.js';
import type { StatusRecord, StatusStore } from './status-store.js';

type Status = Record<string, unknown>;

export interface StatusObjects {
  /** The object as the informer last saw it. */
  object(kind: Kind, key: string): { metadata: { generation?: number }; status?: Status } | undefined;
  keys(kind: Kind): string[];
}

export interface KubernetesStatusStoreOptions {
  kubeConfig: KubeConfig;
  objects: StatusObjects;
  log: Logger;
  /** First retry delay; doubles up to 30 s. */
  retryDelayMs?: number;
}

interface Entry {
  kind: Kind;
  key: string;
  record: StatusRecord<unknown>;
  /** The status the API server has, as far as this store knows. */
  sent?: Status;
  flushing?: Promise<void>;
  again: boolean;
  retryDelay: number;
  timer?: NodeJS.Timeout;
}

export class KubernetesStatusStore implements StatusStore {
  private readonly api: CustomObjectsApi;
  private readonly entries = new Map<string, Entry>();
  private closed = false;
  /** Status patches sent (for logs and tests). */
  patches = 0;

  private readonly firstRetryMs: number;

  constructor(private readonly opts: KubernetesStatusStoreOptions) {
    this.api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    this.firstRetryMs = opts.retryDelayMs ?? 500;
  }

  /** The object's entry; on first use it starts from the status the informer saw (none: no entry yet). */
  private entry(kind: Kind, key: string): Entry | undefined {
    const existing = this.entries.get(`${kind} ${key}`);
    if (existing) return existing;
    const obj = this.opts.objects.object(kind, key);
    if (!obj) return undefined;
    const status = structuredClone(obj.status ?? {});
    return this.add(kind, key, { status, generation: obj.metadata.generation ?? 1 }, structuredClone(status));
  }

  private add(kind: Kind, key: string, record: StatusRecord<unknown>, sent: Status | undefined): Entry {
    const entry: Entry = { kind, key, record, sent, again: false, retryDelay: this.firstRetryMs };
    this.entries.set(`${kind} ${key}`, entry);
    return entry;
  }

  read<S>(kind: Kind, key: string): StatusRecord<S> | undefined {
    const entry = this.entry(kind, key);
    return entry ? (structuredClone(entry.record) as StatusRecord<S>) : undefined;
  }

  peek<S>(kind: Kind, key: string): Readonly<StatusRecord<S>> | undefined {
    return this.entry(kind, key)?.record as StatusRecord<S> | undefined;
  }

  write<S>(kind: Kind, key: string, record: StatusRecord<S>): void {
    const copy = structuredClone(record) as StatusRecord<unknown>;
    const entry = this.entry(kind, key) ?? this.add(kind, key, copy, undefined);
    entry.record = copy;
    this.flush(entry);
  }

  delete(kind: Kind, key: string): void {
    const entry = this.entries.get(`${kind} ${key}`);
    if (entry) clearTimeout(entry.timer);
    this.entries.delete(`${kind} ${key}`);
  }

  keys(kind: Kind): string[] {
    return this.opts.objects.keys(kind);
  }

  /** Waits until every status write has reached the API server (or failed for good). */
  async settle(): Promise<void> {
    for (;;) {
      const busy = [...this.entries.values()].filter((e) => e.flushing || e.timer);
      if (busy.length === 0) return;
      await Promise.all(busy.map((e) => e.flushing ?? new Promise((r) => setTimeout(r, 20))));
    }
  }

  async close(): Promise<void> {
    // What the last runs wrote must reach the cluster: a bounded wait, then give up.
    await Promise.race([this.settle(), new Promise((r) => setTimeout(r, 5000).unref())]);
    this.closed = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
  }

  private flush(entry: Entry): void {
    if (entry.flushing || entry.timer) {
      entry.again = true;
      return;
    }
    entry.flushing = this.send(entry).finally(() => {
      entry.flushing = undefined;
      if (entry.again && !entry.timer && this.entries.get(`${entry.kind} ${entry.key}`) === entry) {
        entry.again = false;
        this.flush(entry);
      }
    });
  }

  private async send(entry: Entry): Promise<void> {
    const next = structuredClone(entry.record.status) as Status;
    const patch = mergePatch(entry.sent ?? this.opts.objects.object(entry.kind, entry.key)?.status ?? {}, next);
    if (patch === undefined) return;
    const [namespace, name] = entry.key.split('/');
    try {
      await this.api.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURALS[entry.kind], name, body: { status: patch } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.patches++;
      entry.sent = next;
      entry.retryDelay = this.firstRetryMs;
    } catch (e) {
      const code = apiErrorCode(e);
      if (code === 404) {
        this.delete(entry.kind, entry.key); // deleted meanwhile: nothing to record on
        return;
      }
      if (this.closed) return;
      const permanent = code !== undefined && code >= 400 && code < 500 && code !== 409 && code !== 429;
      this.opts.log.warn(
        { resource: `${entry.kind} ${entry.key}`, code, retryInMs: permanent ? undefined : entry.retryDelay },
        permanent
          ? `the API server refused a status update (${code}): ${apiErrorMessage(e)}`
          : `could not write status (${code ?? apiErrorMessage(e)}); retrying`,
      );
      if (permanent) return;
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        this.flush(entry);
      }, entry.retryDelay);
      entry.timer.unref();
      entry.retryDelay = Math.min(entry.retryDelay * 2, 30_000);
    }
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** RFC 7386 merge patch turning `from` into `to`; undefined when they are equal. */
export function mergePatch(
  from: Record<string, unknown>,
  to: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined) continue;
    const before = from[k];
    if (isMap(v) && isMap(before)) {
      const inner = mergePatch(before, v);
      if (inner !== undefined) out[k] = inner;
    } else if (JSON.stringify(v) !== JSON.stringify(before)) {
      out[k] = v;
    }
  }
  for (const k of Object.keys(from)) {
    if (to[k] === undefined && from[k] !== undefined) out[k] = null;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
