/**
 * Upsert by the unique attribute into the home solution: the batch's existing cards are looked up
 * (card-lookup.ts), then created and modified together in bulk PUTs of at most 200 cards. A card the API
 * refuses is reported by its key with the API's words and the others go on. A bulk PUT that fails without a
 * clear answer (a 5xx, a timeout, a reset) may have been applied: its keys are looked up again and only what
 * is still missing is created, so that a retry never makes a second card.
 */

import type { CardWrite, UpsertOptions, UpsertResult } from '../types.js';
import { writeData } from './api/card-values.js';
import { type DataCards, MAX_PAGE } from './api/data-cards.js';
import { attributeErrorsText, M42ApiError } from './api/errors.js';
import type { BulkItem, TemplateInfo, WriteData } from './api/types.js';
import type { CardLookup, FoundCard } from './card-lookup.js';

export interface UpsertBatch {
  template: TemplateInfo;
  folder: string | undefined;
  unique: string;
  cards: readonly CardWrite[];
  options: UpsertOptions;
}

export class CardUpserts {
  constructor(
    private readonly cards: DataCards,
    private readonly lookup: CardLookup,
  ) {}

  /** The result, and the data card id of every key of the batch that has a card now. */
  async upsert(b: UpsertBatch): Promise<{ result: UpsertResult; ids: Map<string, number> }> {
    const result: UpsertResult = { created: 0, updated: 0, restored: 0, failed: [] };
    // The last write of a key in a batch wins, as it would in two batches.
    const byKey = new Map(b.cards.map((c) => [c.key, c]));
    const existing = await this.find(b, [...byKey.keys()]);
    const writes = [...byKey.values()];
    for (let i = 0; i < writes.length; i += MAX_PAGE) {
      await this.putChunk(b, writes.slice(i, i + MAX_PAGE), existing, result);
    }
    const failed = new Set(result.failed.map((f) => f.key));
    const ids = new Map<string, number>();
    for (const [k, v] of existing) if (!failed.has(k)) ids.set(k, v.dataCardId);
    return { result, ids };
  }

  private async putChunk(
    b: UpsertBatch,
    chunk: readonly CardWrite[],
    existing: Map<string, FoundCard>,
    result: UpsertResult,
  ): Promise<void> {
    const itemsOf = () => chunk.map((c) => this.item(b, c, existing.get(c.key)));
    let items = itemsOf();
    let answer: Awaited<ReturnType<DataCards['bulkPut']>>;
    try {
      answer = await this.cards.bulkPut(
        b.template.code,
        items.map((i) => i.item),
      );
    } catch (e) {
      if (!uncertain(e) || !items.some((i) => !i.found)) throw e;
      // The PUT may have been applied: what it created is found now and modified instead of created twice.
      for (const [k, v] of await this.find(
        b,
        chunk.map((c) => c.key),
      ))
        existing.set(k, v);
      items = itemsOf();
      answer = await this.cards.bulkPut(
        b.template.code,
        items.map((i) => i.item),
      );
    }
    const data = answer.data ?? [];
    items.forEach((it, n) => {
      const r = data[n];
      const errors = r?.errors ?? [];
      if (!r?.dataCard?.dataCardId || errors.length > 0) {
        result.failed.push({
          key: it.key,
          error: errors.length > 0 ? attributeErrorsText(errors) : 'not saved by the home solution',
        });
        return;
      }
      if (it.found) {
        result.updated++;
        if (it.restored) result.restored = (result.restored ?? 0) + 1;
      } else {
        result.created++;
        existing.set(it.key, { dataCardId: r.dataCard.dataCardId, values: {} });
      }
    });
  }

  /** The existing cards among `keys`, with the onDeleted attribute when a marked card may need restoring. */
  private find(b: UpsertBatch, keys: string[]): Promise<Map<string, FoundCard>> {
    const extra = b.options.restore ? [b.options.restore.attribute] : [];
    return this.lookup.find(b.template.code, b.unique, keys, extra);
  }

  private item(b: UpsertBatch, c: CardWrite, found: FoundCard | undefined) {
    const data: WriteData = writeData(c.attributes, b.template.attributes);
    const restore = b.options.restore;
    let restored = false;
    if (found && restore && found.values[restore.attribute] === restore.value) {
      data[restore.attribute] = { values: restore.restoreValue === undefined ? [] : [{ value: restore.restoreValue }] };
      restored = true;
    }
    const folderCode = b.folder ?? b.template.allowedFolders?.[0]?.folderCode ?? '';
    const item: BulkItem = found ? { dataCardId: found.dataCardId, data } : { folderCode, data };
    return { key: c.key, item, found: found !== undefined, restored };
  }
}

/** A failure after which the API may or may not have applied the write. */
function uncertain(e: unknown): boolean {
  return e instanceof M42ApiError && (e.status === 0 || e.status >= 500);
}
