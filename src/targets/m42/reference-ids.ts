/**
 * Data card ids of the cards that references point to. A mapping attribute with `references: access` holds
 * the unique values of the referenced kind's cards; the API wants `{dataCardId}`. The engine loads the
 * referenced kind first, so the ids are mostly known from its upserts; the rest are looked up. Bounded: the
 * oldest ids are forgotten first (a forgotten id costs one lookup, not a wrong reference).
 */
import type { CardLookup } from './card-lookup.js';

const MAX_IDS = 200_000;

export class ReferenceIds {
  private readonly ids = new Map<string, number>();

  constructor(private readonly lookup: CardLookup) {}

  remember(template: string, ids: ReadonlyMap<string, number>): void {
    for (const [key, id] of ids) {
      const k = `${template}\u0000${key}`;
      this.ids.delete(k);
      this.ids.set(k, id);
    }
    while (this.ids.size > MAX_IDS) this.ids.delete(this.ids.keys().next().value as string);
  }

  /** key → id for the keys that have a card in the template; keys without one are left out. */
  async resolve(template: string, unique: string, keys: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const key of new Set(keys)) {
      const id = this.ids.get(`${template}\u0000${key}`);
      if (id === undefined) missing.push(key);
      else out.set(key, id);
    }
    if (missing.length > 0) {
      const found = await this.lookup.find(template, unique, missing);
      const ids = new Map([...found].map(([k, v]) => [k, v.dataCardId]));
      this.remember(template, ids);
      for (const [k, id] of ids) out.set(k, id);
    }
    return out;
  }
}
