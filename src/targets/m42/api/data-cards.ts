/**
 * The data-card calls of the REST API v1 on top of the client: templates, paged lists (`limit` at most 200,
 * cards in descending `dataCardId`, the next page by `filterId` = the last id, as `meta.links.next` says),
 * create, bulk PUT, PATCH and DELETE (to the trash). Nothing here holds more than one page.
 */
import type { M42Client } from './m42-client.js';
import type { AttributeError, BulkItem, BulkResult, CardJson, CardPage, TemplateInfo, WriteData } from './types.js';

/** The answer to a create or an update: the card, and what the API could not write of it. */
export interface WriteAnswer {
  meta?: { errors?: AttributeError[] | null };
  dataCard?: CardJson;
}

/** The API's largest page. */
export const MAX_PAGE = 200;

export interface ListQuery {
  /** EQL WHERE part. */
  filter?: string;
  /** Attribute codes to read; all when absent. */
  selectedAttributes?: readonly string[];
  limit?: number;
}

export class DataCards {
  constructor(readonly client: M42Client) {}

  async templates(): Promise<Array<{ name?: string; templateCode: string }>> {
    return (await this.client.call<Array<{ name?: string; templateCode: string }>>('GET', '/dc')).body ?? [];
  }

  /** `GET /dc/{t}`: folders and attributes; undefined when the template does not exist (404). */
  async template(code: string): Promise<TemplateInfo | undefined> {
    const { status, body } = await this.client.call<TemplateInfo>('GET', `/dc/${encodeURIComponent(code)}`, {
      accept: [404],
    });
    return status === 404 ? undefined : body;
  }

  /**
   * Every card the query selects, page by page. Stops when a page has no next link; a next link that does
   * not move below the last id, or a page that repeats one, is an error (the list would never end).
   */
  async *pages(template: string, q: ListQuery = {}, signal?: AbortSignal): AsyncGenerator<CardJson[]> {
    const limit = Math.min(Math.max(q.limit ?? MAX_PAGE, 1), MAX_PAGE);
    let filterId: number | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const page = await this.page(template, q, limit, filterId);
      const cards = page.data ?? [];
      if (cards.length > 0) yield cards;
      const next = page.meta?.links?.next;
      if (!next || cards.length === 0) return;
      const last = cards[cards.length - 1].dataCardId;
      if (filterId !== undefined && last >= filterId) {
        throw new Error(`the list of ${template} cards did not move on (filterId ${filterId} answered id ${last})`);
      }
      filterId = nextFilterId(next) ?? last;
    }
  }

  async page(template: string, q: ListQuery, limit: number, filterId?: number): Promise<CardPage> {
    const query: Record<string, string | number | boolean | undefined> = {
      limit,
      dataCards: true,
      filter: q.filter,
      filterId,
      selectedAttributes: q.selectedAttributes?.join(','),
    };
    return (await this.client.call<CardPage>('GET', `/dc/${encodeURIComponent(template)}/data`, { query })).body ?? {};
  }

  /** Synchronous bulk create/modify; the answer's items are in the order of the request's. */
  async bulkPut(template: string, items: readonly BulkItem[]): Promise<BulkResult> {
    const path = `/dc/${encodeURIComponent(template)}/data`;
    return (await this.client.call<BulkResult>('PUT', path, { body: items, write: true })).body ?? {};
  }

  /** Creates one card; the answer's per-attribute errors come back with it. */
  async create(template: string, folderCode: string, data: WriteData): Promise<WriteAnswer> {
    const path = `/dc/${encodeURIComponent(template)}/data`;
    const { body } = await this.client.call<WriteAnswer>('POST', path, { body: { folderCode, data }, write: true });
    return body ?? {};
  }

  async patch(template: string, id: number, data: WriteData): Promise<WriteAnswer> {
    const path = `/dc/${encodeURIComponent(template)}/data/${id}`;
    const { body } = await this.client.call<WriteAnswer>('PATCH', path, {
      body: { dataCardId: id, data },
      write: true,
    });
    return body ?? {};
  }

  /** Moves a card to the trash; false when it was there already (409). */
  async trash(template: string, id: number): Promise<boolean> {
    const path = `/dc/${encodeURIComponent(template)}/data/${id}`;
    const { status } = await this.client.call('DELETE', path, { write: true, accept: [409] });
    return status !== 409;
  }
}

/** The `filterId` of a next link (`.../data?limit=3&filterId=12345`), relative or absolute. */
function nextFilterId(next: string): number | undefined {
  const at = next.indexOf('?');
  if (at < 0) return undefined;
  const v = new URLSearchParams(next.slice(at + 1)).get('filterId');
  const n = v === null ? Number.NaN : Number(v);
  return Number.isInteger(n) ? n : undefined;
}
