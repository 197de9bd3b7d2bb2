/**
 * What a connector type provides. Each type lives in src/connectors/<type>/ and registers one
 * ConnectorType in src/connectors/registry.ts; the engine, validator and scheduler only talk to
 * this interface, so adding a type never changes them.
 */
import type { Logger } from '../log/logger.js';
import type { ExtractedRecord } from '../model/records.js';
import type { Connector, SecretRef, Task, ConnectorType as TypeName, Usage } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';

export { ExtractError, InvalidInvocationError } from '../model/errors.js';
export type { Cursor, Cursors, ExtractedRecord, ExtractOutcome, RecordKind } from '../model/records.js';

export interface Watermark {
  time?: string;
  token?: string;
}

export interface ExtractProgress {
  records: number;
  apiCalls: number;
}

/** What a connector gets for any work on behalf of a task: scheduled extracts and event actions alike. */
interface TaskWorkContext {
  connector: Connector;
  task: Task;
  namespace: string;
  secrets: SecretResolver;
  signal: AbortSignal;
  log: Logger;
}

export interface ExtractContext extends TaskWorkContext {
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

export interface ConnectionCheck {
  ok: boolean;
  message: string;
}

/** What a workflow sends with an invocation: the card's attributes and those of cards it references. */
export interface InvokeData {
  [attribute: string]: unknown;
  reference?: Record<string, Record<string, unknown>>;
}

export interface ActionContext extends TaskWorkContext {
  /**
   * Aborted when the caller goes away. The upstream timeout (spec.event.timeout) is the action's to enforce:
   * it knows where a call starts (one timer per call is cheaper than a combined signal per invocation).
   */
  signal: AbortSignal;
}

/**
 * The outcome of one activity. `Completed` iff the upstream answered 200 <= status < 400; anything
 * else, a connection error or a timeout is an `Exception` with a readable text. Never throws for
 * upstream failures: only for a bad invocation (InvalidInvocationError).
 */
export interface ActionResult {
  state: 'Completed' | 'Exception';
  statusCode?: number;
  /** The upstream body (JSON when it parses, else text), for the workflow's response attribute. */
  response: unknown;
  exception: string | null;
}

export type ActionHandler = (
  ctx: ActionContext,
  input: Record<string, unknown>,
  data: InvokeData,
) => Promise<ActionResult>;

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
  /** Event activities by name (restCall, ...), for tasks with usage: event. */
  actions?: Readonly<Record<string, ActionHandler>>;
  /** Cheap reachability check for Connector status. */
  checkConnection?(ctx: Omit<ExtractContext, 'task' | 'mode' | 'progress'>): Promise<ConnectionCheck>;
}
