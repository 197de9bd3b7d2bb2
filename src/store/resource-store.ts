/**
 * The desired state: every Connector and Task a source declared, indexed by kind and
 * namespace/name, with what validation said about it. Sources write here; the controller listens.
 *
 * A resource whose latest version is invalid keeps its last valid version (`effective`), so a typo
 * pushed to git stops nothing that ran before; the findings say why the new version is not applied.
 */
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import type { Connector, Kind, Task } from '../model/resources.js';
import type { LastGoodVersions } from '../state/last-good.js';
import type { Diagnostic } from '../validation/diagnostics.js';

export interface StoredResource<T extends Connector | Task = Connector | Task> {
  kind: Kind;
  key: string;
  /** The version that runs: the latest valid one. Undefined if no version was ever valid. */
  effective?: T;
  /** The latest version as declared, valid or not. */
  declared: T;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** File and line it was declared at (git mode). */
  origin?: { file: string; line: number };
  /** Source revision it came from (git HEAD sha in git mode). */
  revision?: string;
  /** metadata.generation as the API server counts it (Kubernetes mode); git mode counts spec changes itself. */
  generation?: number;
  /** Where the version that runs (`effective`) came from, when it is not the declared one. */
  applied?: AppliedVersion;
}

export interface AppliedVersion {
  revision?: string;
  generation?: number;
  /** Kept in the state directory since this time: the controller restarted while the new version was invalid. */
  keptSince?: string;
}

/**
 * The file on disk that declares a resource (git mode), absolute; undefined for resources without one
 * (Kubernetes mode). `origin.file` is written relative to the working directory, as findings print it.
 */
export function declaredFile(stored: StoredResource | undefined): string | undefined {
  return stored?.origin ? resolve(stored.origin.file) : undefined;
}

export type StoreEvent = { type: 'upserted' | 'deleted'; kind: Kind; key: string };

export class ResourceStore extends EventEmitter<{ change: [StoreEvent] }> {
  private readonly items = new Map<string, StoredResource>();

  /** `lastGood`: where valid versions are kept across restarts (the state directory). */
  constructor(private readonly lastGood?: LastGoodVersions) {
    super();
  }

  private static id(kind: Kind, key: string): string {
    return `${kind} ${key}`;
  }

  /** Applies a newly declared version; an invalid one keeps the previous effective version. */
  apply(entry: Omit<StoredResource, 'effective'> & { valid: boolean }): void {
    const id = ResourceStore.id(entry.kind, entry.key);
    const prev = this.items.get(id);
    const { valid, ...rest } = entry;
    const next: StoredResource = { ...rest, ...this.effectiveVersion(entry, prev) };
    this.items.set(id, next);
    this.emit('change', { type: 'upserted', kind: entry.kind, key: entry.key });
  }

  /**
   * After the source's first full read: resources it no longer declares (deleted while the controller was
   * down) lose their kept versions, so that none comes back as the last good version of a new one.
   */
  forgetAbsentLastGood(): void {
    this.lastGood?.retainOnly([...this.items.values()].map((r) => ({ kind: r.kind, key: r.key })));
  }

  delete(kind: Kind, key: string): void {
    this.lastGood?.remove(kind, key);
    if (this.items.delete(ResourceStore.id(kind, key))) this.emit('change', { type: 'deleted', kind, key });
  }

  /** The version that runs: this one if valid, else the last valid one, in memory or in the state directory. */
  private effectiveVersion(
    entry: Omit<StoredResource, 'effective'> & { valid: boolean },
    prev: StoredResource | undefined,
  ): Pick<StoredResource, 'effective' | 'applied'> {
    if (entry.valid) {
      const { revision, generation } = entry;
      this.lastGood?.put(entry.kind, entry.key, {
        resource: entry.declared,
        revision,
        generation,
        savedAt: new Date().toISOString(),
      });
      return { effective: entry.declared };
    }
    if (prev?.effective) {
      const applied = prev.applied ?? { revision: prev.revision, generation: prev.generation };
      return { effective: prev.effective, applied };
    }
    const kept = this.lastGood?.get(entry.kind, entry.key);
    if (!kept) return { effective: undefined };
    return {
      effective: kept.resource,
      applied: { revision: kept.revision, generation: kept.generation, keptSince: kept.savedAt },
    };
  }

  get<T extends Connector | Task>(kind: Kind, key: string): StoredResource<T> | undefined {
    return this.items.get(ResourceStore.id(kind, key)) as StoredResource<T> | undefined;
  }

  list<T extends Connector | Task>(kind: Kind): StoredResource<T>[] {
    return [...this.items.values()]
      .filter((r) => r.kind === kind)
      .sort((a, b) => a.key.localeCompare(b.key)) as StoredResource<T>[];
  }
}
