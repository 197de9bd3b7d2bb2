/**
 * What every source does after validating its whole set: apply to the store each resource that changed since
 * the last sync (the first of two declarations of one resource wins; its finding says so), log why invalid
 * ones are not applied, and delete from the store what is no longer declared. Unchanged resources are not
 * applied again, so the controller does not reconcile (and write status) for nothing.
 */
import type { Logger } from '../log/logger.js';
import { KINDS } from '../model/resources.js';
import type { ResourceStore } from '../store/resource-store.js';
import { formatDiagnostic } from '../validation/diagnostics.js';

export type DeclaredResource = Parameters<ResourceStore['apply']>[0];

export class StoreSync {
  private readonly fingerprints = new Map<string, string>();

  constructor(
    private readonly store: ResourceStore,
    private readonly log: Logger,
    /** How a removal is logged, e.g. "resource removed from the directory". */
    private readonly removed: string,
  ) {}

  apply(declared: readonly DeclaredResource[]): void {
    const seen = new Set<string>();
    for (const entry of declared) {
      const id = `${entry.kind} ${entry.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      // Where it was declared is not part of it: moving a resource within its file changes nothing.
      const { declared: resource, errors, warnings, revision, generation } = entry;
      const fingerprint = JSON.stringify([resource, errors, warnings, revision, generation]);
      if (this.fingerprints.get(id) === fingerprint) continue;
      this.fingerprints.set(id, fingerprint);
      this.store.apply(entry);
      for (const e of errors) this.log.warn({ resource: id }, `invalid resource: ${formatDiagnostic(e)}`);
    }
    for (const kind of KINDS) {
      for (const stored of this.store.list(kind)) {
        const id = `${kind} ${stored.key}`;
        if (seen.has(id)) continue;
        this.fingerprints.delete(id);
        this.store.delete(kind, stored.key);
        this.log.info({ resource: id }, this.removed);
      }
    }
  }
}
