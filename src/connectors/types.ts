/**
 * What a connector type provides. Each type lives in src/connectors/<type>/ and registers one
 * ConnectorType in src/connectors/registry.ts; the engine, validator and scheduler only talk to
 * this interface, so adding a type never changes them.
 */
import type { Logger } from '../log/logger.js';
import type { Cursors, ExtractedRecord, ExtractOutcome } from '../model/records.js';
import type { Connector, SecretRef, Task, ConnectorType as TypeName, Usage } from '../model/resources.js';

export type MappingsType = NonNullable<Task['spec']['mappingsType']>;

import type { SecretResolver } from '../secrets/resolver.js';
import type { SecretScrubber } from '../transport/scrub.js';

export { ExtractError, InvalidInvocationError, ResyncRequired } from '../model/errors.js';
export type { Cursor, Cursors, ExtractedRecord, ExtractOutcome, RecordKind } from '../model/records.js';

export interface ExtractProgress {
  records: number;
  apiCalls: number;
  /** Records the source announced it holds, when it did (a total header, SCIM totalResults): progress bars. */
  total?: number;
}

/** What a connector gets for any work on behalf of a task: scheduled extracts and event actions alike. */
interface TaskWorkContext {
  connector: Connector;
  task: Task;
  namespace: string;
  secrets: SecretResolver;
  signal: AbortSignal;
  log: Logger;
  /**
   * The file on disk that declares the connector (git-directory mode; undefined in Kubernetes mode), for
   * paths relative to it (a script connector's source.path).
   */
  connectorFile?: string;
}

export interface ExtractContext extends TaskWorkContext {
  /**
   * full or incremental. Incremental runs receive, per kind, the cursor the connector handed over after the
   * last successful load; a kind without one (first run, or a ResyncRequired) is read in full.
   */
  mode: 'full' | 'incremental';
  cursors: Cursors;
  /** Called as the extract advances; feeds status counters and progress bars. */
  progress(p: ExtractProgress): void;
  /**
   * The run's scrubber: the engine scrubs every record with it before artifacts and cards. It knows the secret
   * values of the connector; a session registers what it obtains at run time (a dynamic token) here too.
   */
  scrubber?: SecretScrubber;
}

/**
 * An extract streams records. It throws ExtractError when the source failed (the engine loads what came
 * before and never marks deletions), and ResyncRequired when a kind's cursor is expired or invalid (the
 * engine reads that kind in full once). After the last record it declares, through `outcome()`, whether
 * the extract is complete: only a complete extract lets the engine mark deletions.
 */
export interface Extraction extends AsyncIterable<ExtractedRecord> {
  /** Called once iteration ended without an error. */
  outcome(): ExtractOutcome;
}

/** What a connection check gets: the connector's context without a task. */
export type ConnectionContext = Omit<ExtractContext, 'task' | 'mode' | 'progress' | 'cursors'>;

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
  /**
   * What a replay of this call (the same Idempotency-Key) answers instead of `response`, when the response holds
   * a value given once and never stored (a generated first-login password). The idempotency store keeps this.
   */
  replayResponse?: unknown;
  /**
   * Records the invocation loads into the task's target cards (readUser with `load: true`), mapped by the task's
   * mappings exactly as a scheduled run's records are (the upstream object, external names). Loaded only when
   * the activity Completed; a failed load makes the answer an Exception that says so.
   */
  load?: ExtractedRecord[];
}

export type ActionHandler = (
  ctx: ActionContext,
  input: Record<string, unknown>,
  data: InvokeData,
) => Promise<ActionResult>;

/** A finding of a connector type's own validation rules, at a field path of the resource. */
export interface TypeFinding {
  path: Array<string | number>;
  /** `key`: the finding is about the field's name (an unknown block), not its value. */
  at?: 'value' | 'key';
  severity: 'error' | 'warning';
  message: string;
}

/** A finding about one task of a connector that only shows when its tasks are seen together. */
export interface TaskSetFinding extends TypeFinding {
  task: Task;
}

export interface ConnectorType {
  type: TypeName;
  /** Task usages this type supports (the validator refuses others). */
  usages: readonly Usage[];
  /** Whether `fetch: incremental` is supported. */
  incremental: boolean;
  /** The task `mappingsType`s this type can load (REST loads generic objects; Graph, SCIM and LDAP all four). */
  mappingsTypes: readonly MappingsType[];
  /**
   * Checks of a connector block the schema cannot say (inline credentials, ...). Also called for a connector
   * with schema errors: read fields defensively. Messages never repeat a secret value.
   */
  validateConnector?(connector: Connector): TypeFinding[];
  /**
   * Checks of a task's source block against its connector (subquery templates, ...). The connector passed
   * its schema; the task may not have: read its fields defensively.
   */
  validateTask?(task: Task, connector: Connector): TypeFinding[];
  /** Checks across all tasks of one connector (the M42 loop guard); tasks passed their schema. */
  validateTaskSet?(tasks: readonly Task[], connector: Connector): TaskSetFinding[];
  /** Mapping paths the task may use although they are not plain attributes of a record (subquery prefixes). */
  mappingPrefixes?(task: Task): readonly string[];
  /**
   * Drops what the type keeps per connector between calls (event-call sessions, tokens). The controller
   * calls it when the connector or one of its secrets changes, or the connector goes away.
   */
  evictSessions?(namespace: string, name: string): void;
  /** Closes every session the type keeps (shutdown); calls in flight finish first. */
  closeSessions?(): Promise<void>;
  /** Every secret the connector block references, for validation and secret watching. */
  secretRefs(connector: Connector): Array<{ ref: SecretRef; field: string[] }>;
  /** Scheduled extract; absent for types that cannot run scheduled tasks yet. */
  extract?(ctx: ExtractContext): Extraction;
  /** Event activities by name (restCall, ...), for tasks with usage: event. */
  actions?: Readonly<Record<string, ActionHandler>>;
  /** Cheap reachability check for Connector status. */
  checkConnection?(ctx: ConnectionContext): Promise<ConnectionCheck>;
}
