/**
 * The fake's etcd and watch cache in one: objects by storage key and namespace/name, one global resourceVersion
 * counter bumped by every committed write, and a bounded history of change events that watches replay from and
 * that paged lists read consistent snapshots from. Compaction (or the bound) makes older resourceVersions
 * unavailable, as etcd compaction does. Changes are delivered synchronously to subscribers (the open watches).
 */
import { clone, type KubeObject } from './json.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  storage: string;
  type: ChangeType;
  /** The object after the change; for DELETED, its last state with the deletion's resourceVersion. */
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED). */
  prev?: KubeObject;
}

/** One committed write, kept for test assertions (never compacted). */
export interface WriteRecord {
  type: ChangeType;
  storage: string;
  namespace?: string;
  name: string;
  resourceVersion: string;
  /** 'status' for writes through the status subresource. */
  subresource?: string;
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class Store {
  private rv: number;
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private history: Change[] = [];
  /** Every change with rv > historyStart is in history. */
  private historyStart: number;
  private readonly subscribers = new Set<(c: Change) => void>();
  readonly writes: WriteRecord[] = [];

  constructor(
    initialResourceVersion: number,
    private readonly historySize: number,
  ) {
    this.rv = initialResourceVersion;
    this.historyStart = initialResourceVersion;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may start from. */
  get oldestResourceVersion(): number {
    return this.historyStart;
  }

  get(storage: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.data.get(storage)?.get(`${namespace ?? ''}/${name}`);
  }

  /** Objects in key order (namespace, then name), as etcd lists them. */
  list(storage: string, namespace?: string): KubeObject[] {
    const all = [...(this.data.get(storage)?.values() ?? [])];
    return sortByKey(namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace));
  }

  /**
   * Commits a change: bumps the resourceVersion, stores (or removes) the object, records it in the history and
   * tells the subscribers. The object is taken over (callers pass a fresh copy).
   */
  commit(storage: string, type: ChangeType, object: KubeObject, subresource?: string): Change {
    this.rv += 1;
    object.metadata.resourceVersion = String(this.rv);
    let bucket = this.data.get(storage);
    if (!bucket) {
      bucket = new Map();
      this.data.set(storage, bucket);
    }
    const key = keyOf(object);
    const prev = bucket.get(key);
    if (type === 'DELETED') bucket.delete(key);
    else bucket.set(key, object);
    const change: Change = { rv: this.rv, storage, type, object, prev };
    this.history.push(change);
    while (this.history.length > this.historySize) {
      const dropped = this.history.shift();
      if (dropped) this.historyStart = dropped.rv;
    }
    this.writes.push({
      type,
      storage,
      namespace: object.metadata.namespace,
      name: String(object.metadata.name),
      resourceVersion: String(this.rv),
      subresource,
    });
    for (const s of [...this.subscribers]) s(change);
    return change;
  }

  /** Changes to one storage after rv, or undefined when the history no longer reaches back that far. */
  changesSince(storage: string, rv: number): Change[] | undefined {
    if (rv < this.historyStart) return undefined;
    return this.history.filter((c) => c.rv > rv && c.storage === storage);
  }

  /** The objects of a storage as they were at rv (undefined when the history no longer covers it). */
  snapshotAt(storage: string, rv: number): KubeObject[] | undefined {
    if (rv < this.historyStart) return undefined;
    const state = new Map((this.data.get(storage) ?? new Map()).entries());
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      const c = this.history[i];
      if (c.storage !== storage) continue;
      const key = keyOf(c.object);
      if (c.type === 'ADDED') state.delete(key);
      else if (c.prev) state.set(key, c.prev);
    }
    return sortByKey([...state.values()]);
  }

  /** Drops the whole history: watches and continue tokens from before now get 410 Gone. */
  compact(): void {
    this.history = [];
    this.historyStart = this.rv;
  }

  subscribe(fn: (c: Change) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** A deep copy of everything, for debugging. */
  dump(): Record<string, KubeObject[]> {
    return Object.fromEntries([...this.data.entries()].map(([k, v]) => [k, clone([...v.values()])]));
  }
}

function sortByKey(objects: KubeObject[]): KubeObject[] {
  return objects.sort((a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
