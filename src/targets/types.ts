/**
 * A target is the home solution that loads write data cards to: `local` (embedded, on disk) or
 * `m42` (the home solution's REST API). The engine only talks to this interface.
 */

/** A data card: local attribute name → value. */
export type Card = Record<string, unknown>;

export interface CardWrite {
  /** Value of the unique attribute, as a string; identifies the card within its template. */
  key: string;
  attributes: Card;
  /** The attributes already serialized as JSON, when the caller has it (saves serializing twice). */
  json?: string;
}

export interface UpsertResult {
  created: number;
  updated: number;
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

export interface Target {
  readonly name: string;
  /**
   * Creates or updates cards by their unique attribute; attributes not written are kept, and an
   * attribute written as null is removed (a value that disappeared from the source).
   */
  upsert(
    template: string,
    folder: string | undefined,
    uniqueAttribute: string,
    cards: CardWrite[],
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
