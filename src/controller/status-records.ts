/**
 * Status records of Connectors and Tasks as the reconcilers and the run reporter read and write them, with
 * the generation of the spec being reconciled: the API server's in Kubernetes mode; in git mode counted
 * as an API server would (+1 whenever the spec changes).
 */
import { createHash } from 'node:crypto';
import type { Kind, TaskStatus } from '../model/resources.js';
import type { StatusRecord, StatusStore } from '../state/status-store.js';
import type { StoredResource } from '../store/resource-store.js';

/** Where git mode kept the handled stop and clear-cache markers before they moved into status (read only). */
interface TaskRecordExtra {
  handledStopAt?: string;
  handledClearCacheAt?: string;
}

export type TaskRecord = StatusRecord<TaskStatus> & TaskRecordExtra;

const specHash = (spec: unknown): string =>
  createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);

export class StatusRecords {
  constructor(readonly store: StatusStore) {}

  /** A copy of the task's status record, to change and write back. */
  task(key: string): TaskRecord | undefined {
    return this.store.read<TaskStatus>('Task', key) as TaskRecord | undefined;
  }

  /** The task's status record for reading only (no copy: suspended() runs on every invocation). */
  peekTask(key: string): Readonly<TaskRecord> | undefined {
    return this.store.peek<TaskStatus>('Task', key) as Readonly<TaskRecord> | undefined;
  }

  /** The record to update, its generation moved on when the spec being reconciled changed. */
  next<S>(kind: Kind, stored: StoredResource): StatusRecord<S> {
    const rec = this.store.read<S>(kind, stored.key) ?? { status: {} as S, generation: 0 };
    if (stored.generation !== undefined) {
      rec.generation = stored.generation;
      return rec;
    }
    const hash = specHash(stored.declared.spec);
    if (rec.specHash !== hash) {
      rec.generation += 1;
      rec.specHash = hash;
    }
    return rec;
  }
}

/**
 * kstatus: observedGeneration is the generation that runs. While the latest version is invalid, the last
 * valid one keeps running, so observedGeneration stays at its generation and appliedRevision at its commit;
 * the conditions (on the latest generation) say why the new version is not applied.
 */
export function recordApplied(
  status: { observedGeneration?: number; appliedRevision?: string },
  generation: number,
  stored: StoredResource,
): void {
  const runsDeclared = stored.effective !== undefined && stored.effective === stored.declared;
  if (runsDeclared || !stored.effective) status.observedGeneration = generation;
  else status.observedGeneration = stored.applied?.generation ?? status.observedGeneration ?? generation;
  const revision = runsDeclared ? stored.revision : stored.applied?.revision;
  if (stored.effective && revision) status.appliedRevision = revision;
  else delete status.appliedRevision;
}

/** " (generation 3, revision 1a2b3c4, kept in the state directory since ...)" for the version that runs. */
export function describeApplied(stored: StoredResource, observedGeneration: number | undefined): string {
  const parts: string[] = [];
  if (observedGeneration !== undefined) parts.push(`generation ${observedGeneration}`);
  const revision = stored.applied?.revision;
  if (revision) parts.push(`revision ${revision.slice(0, 7)}`);
  if (stored.applied?.keptSince) parts.push(`kept in the state directory since ${stored.applied.keptSince}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
