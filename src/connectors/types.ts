/**
 * What a connector type provides. Each type lives in src/connectors/<type>/ and registers one
 * ConnectorType in src/connectors/registry.ts; the engine, validator and scheduler only talk to
 * this interface, so adding a type never changes them.
 */
import type { Logger } from '../log/logger.js';
import type { Connector, SecretRef, Task, ConnectorType as TypeName, Usage } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';

/** Which mappings block an extracted record is loaded through. */
export type RecordKind = 'identity' | 'access' | 'generic';

export interface ExtractedRecord {
  kind: RecordKind;
  /** The record as the source returned it (subquery results under their template key). */
  data: Record<string, unknown>;
}

export interface Watermark {
  time?: string;
  token?: string;
}

export interface ExtractProgress {
  records: number;
  apiCalls: number;
}

export interface ExtractContext {
  connector: Connector;
  task: Task;
  namespace: string;
  secrets: SecretResolver;
  signal: AbortSignal;
  log: Logger;
  /** full or incremental; incremental runs receive the watermark of the last successful load. */
  mode: 'full' | 'incremental';
  watermark?: Watermark;
  /** Called as the extract advances; feeds status counters and progress bars. */
  progress(p: ExtractProgress): void;
}

/**
 * An extract streams records. It throws ExtractError when the source failed or the data is
 * incomplete; the engine then loads nothing further and never marks deletions.
 */
export interface Extraction extends AsyncIterable<ExtractedRecord> {
  /** Watermark to store once the load of this extract succeeded (incremental sources). */
  nextWatermark?(): Watermark | undefined;
}

export class ExtractError extends Error {
  constructor(
    message: string,
    /** Incomplete: the source answered but not everything was read (safety threshold, paging). */
    readonly status: 'Failed' | 'Incomplete' = 'Failed',
  ) {
    super(message);
  }
}

export interface ConnectionCheck {
  ok: boolean;
  message: string;
}

export interface ConnectorType {
  type: TypeName;
  /** Task usages this type supports (the validator refuses others). */
  usages: readonly Usage[];
  /** Whether `fetch: incremental` is supported. */
  incremental: boolean;
  /** Every secret the connector block references, for validation and secret watching. */
  secretRefs(connector: Connector): Array<{ ref: SecretRef; field: string[] }>;
  /** Scheduled extract; absent for types that cannot run scheduled tasks yet. */
  extract?(ctx: ExtractContext): Extraction;
  /** Cheap reachability check for Connector status. */
  checkConnection?(ctx: Omit<ExtractContext, 'task' | 'mode' | 'progress'>): Promise<ConnectionCheck>;
}
