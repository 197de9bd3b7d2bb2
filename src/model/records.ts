/**
 * What flows from a connector's extract into the engine (DESIGN §4, "The engine contract").
 */

/** Which mappings block a record is loaded through: users, groups, or any other object. */
export type RecordKind = 'identity' | 'access' | 'generic';

export const RECORD_KINDS: readonly RecordKind[] = ['identity', 'access', 'generic'];

/**
 * One record of an extract. `upsert` carries the record as the source returned it; `delete` says the source
 * reported this record gone (a Graph `@removed`, an LDAP tombstone, a script's output) and is marked deleted
 * at once, in any fetch mode. A delete names the record by `key` (the value of the unique attribute) or by
 * `data` that the mapping resolves to it.
 */
export interface ExtractedRecord {
  kind: RecordKind;
  op?: 'upsert' | 'delete';
  key?: string;
  data: Record<string, unknown>;
}

/**
 * Incremental state of one kind of one task: opaque to the engine (a Graph deltaLink, an LDAP uSN per domain
 * controller, a timestamp). Stored only after the load succeeded; a cache clear leaves it alone.
 */
export type Cursor = string;

export type Cursors = Partial<Record<RecordKind, Cursor>>;

/**
 * How an extract ended, as the connector declares it once its records are all handed over. `complete: false`
 * loads what was read but never marks deletions; `reason` says why in the run's extract info.
 */
export interface ExtractOutcome {
  complete: boolean;
  reason?: string;
  /** The cursors to store once the load succeeded; a kind left out keeps its old cursor. */
  cursors?: Cursors;
  /** What the run's extract info should say besides the counts (LDAP: members outside the read scope). */
  notes?: string[];
}
