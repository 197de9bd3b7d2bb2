/**
 * A target is the home solution that loads write data cards to: `local` (embedded, on disk) or
 * `m42` (the home solution's REST API). The engine only talks to this interface.
 */

import type { Connector } from '../model/resources.js';

/** A data card: local attribute name → value. */
export type Card = Record<string, unknown>;

export interface CardWrite {
  /** Value of the unique attribute, as a string; identifies the card within its template. */
  key: string;
  attributes: Card;
  /** The attributes already serialized as JSON, when the caller has it (saves serializing twice). */
  json?: string;
}

export interface UpsertOptions {
  /**
   * The task's deletion marking: a card of the batch that carries it had its record come back, so the
   * marking is undone (attribute = restoreValue, or the attribute removed) and counted as restored.
   */
  restore?: { attribute: string; value: string; restoreValue?: string };
  /**
   * Attributes whose values are keys of cards of another template (`references` in the mapping). The
   * `local` target stores the keys as they are; a target with references of its own (the home solution's
   * data card ids) turns them into those.
   */
  references?: ReadonlyArray<{ attribute: string; template: string; uniqueAttribute: string }>;
}

export interface UpsertResult {
  created: number;
  updated: number;
  /** Of the updated cards, those whose deletion marking was undone. */
  restored?: number;
  /** Cards the target refused, with the reason in the target's words. */
  failed: Array<{ key: string; error: string }>;
}

export interface OwnedCardsQuery {
  template: string;
  uniqueAttribute: string;
  taskIdAttribute: string;
  taskId: string;
  /** Cards already carrying this marking are not returned (they were marked before). */
  notMarked: { attribute: string; value: string };
}

/** What a run will write to one template: checked by the target before the run extracts anything. */
export interface TargetRequirement {
  /** The task field that asks for it, for messages: `spec.mappings.identity`, `spec.failure`. */
  field: string;
  template: string;
  folder?: string;
  /** Attributes the run writes; `field` names where each comes from. */
  attributes: Array<{ name: string; field: string; reference?: boolean }>;
}

export interface Target {
  readonly name: string;
  /**
   * Cards per upsert batch this target writes best (the m42 target: a multiple of the API's 200-card bulk
   * PUT, so that no batch ends in a short PUT). The engine's default applies when absent.
   */
  readonly batchSize?: number;
  /**
   * Problems that would make every write of the run fail (a template, folder or attribute the home
   * solution does not have), each naming the field and the attribute; none when the run can go ahead.
   * Targets without a schema of their own (local) have no check.
   */
  check?(requirements: readonly TargetRequirement[]): Promise<string[]>;
  /**
   * Creates or updates cards by their unique attribute; attributes not written are kept, and an
   * attribute written as null is removed (a value that disappeared from the source).
   */
  upsert(
    template: string,
    folder: string | undefined,
    uniqueAttribute: string,
    cards: CardWrite[],
    options?: UpsertOptions,
  ): Promise<UpsertResult>;
  /** Keys of the cards this task loaded that are not marked deleted yet; streamed. */
  ownedCards(query: OwnedCardsQuery): AsyncIterable<string>;
  /** Sets attribute = value on these cards; answers how many were marked. */
  markDeleted(
    template: string,
    uniqueAttribute: string,
    keys: string[],
    mark: { attribute: string; value: string },
  ): Promise<number>;
  /** Writes one failure card (no unique attribute: every failure is a new card). */
  createCard(template: string, folder: string | undefined, attributes: Card): Promise<void>;
  /** Every card of a template, streamed. */
  list(template: string): AsyncIterable<Card>;
  close(): Promise<void>;
}

/**
 * Gives each Connector its target (DESIGN §4): the home solution's target logs in with the connector's own
 * webApi credentials, so targets are per connector; the embedded local target is one for all.
 */
export interface TargetFactory {
  targetFor(connector: Connector): Target;
  /** Closes every target handed out. */
  close(): Promise<void>;
}

/** A factory that hands the same target to every connector (the local target, tests). */
export function sharedTarget(target: Target): TargetFactory {
  return { targetFor: () => target, close: () => target.close() };
}
