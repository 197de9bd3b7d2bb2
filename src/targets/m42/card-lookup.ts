/**
 * Finds existing cards by their unique values, in as few calls as the API allows: while a template holds
 * at most one page of cards, one unfiltered page answers every key of a batch; once it is larger, EQL
 * `$unique$ IN (...)` lists of up to 200 values (one page each) answer the batch. A template that was seen
 * larger than a page is not probed again (templates seldom shrink).
 */
import { firstText } from './api/card-values.js';
import { type DataCards, MAX_PAGE } from './api/data-cards.js';
import { eqlIn, inChunks } from './api/eql.js';
import type { CardJson } from './api/types.js';

export interface FoundCard {
  dataCardId: number;
  /** The first value of each extra attribute asked for (the onDeleted attribute, to restore a marked card). */
  values: Record<string, string | undefined>;
}

export class CardLookup {
  /** Templates known to hold more than one page of cards. */
  private readonly large = new Set<string>();

  constructor(private readonly cards: DataCards) {}

  /** The existing cards among `keys`, by unique value. */
  async find(
    template: string,
    unique: string,
    keys: readonly string[],
    extra: readonly string[] = [],
  ): Promise<Map<string, FoundCard>> {
    const found = new Map<string, FoundCard>();
    if (keys.length === 0) return found;
    const selected = [...new Set([unique, ...extra])];
    const keep = (card: CardJson, wanted?: ReadonlySet<string>) => {
      const key = firstText(card, unique);
      if (key === undefined || (wanted && !wanted.has(key))) return;
      found.set(key, {
        dataCardId: card.dataCardId,
        values: Object.fromEntries(extra.map((a) => [a, firstText(card, a)])),
      });
    };
    if (!this.large.has(template) && keys.length > 1) {
      const page = await this.cards.page(template, { selectedAttributes: selected }, MAX_PAGE);
      if (!page.meta?.links?.next) {
        const wanted = new Set(keys);
        for (const card of page.data ?? []) keep(card, wanted);
        return found;
      }
      this.large.add(template);
    }
    for (const chunk of inChunks(keys, MAX_PAGE)) {
      for await (const page of this.cards.pages(template, {
        filter: eqlIn(unique, chunk),
        selectedAttributes: selected,
      })) {
        for (const card of page) keep(card);
      }
    }
    return found;
  }
}
