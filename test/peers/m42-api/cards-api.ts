/**
 * The data-card calls of the simulated REST API v1 (shared/reference/m42-rest-api.md "Data cards"), on top of
 * the store: lists with `limit`/`filterId`/`filter`/`dataCards`/`selectedAttributes`, the stream, create, bulk
 * PUT, PATCH, DELETE to the trash and the attribute calls. Transport, auth and faults are server.ts's.
 *
 * Choices where the reference is silent:
 * - `dataCards` defaults to false (info elements) on lists and on the stream, as on POST/PATCH.
 * - `meta.count` is the number of cards on this page; `meta.links.next` is an absolute URL (the request's own
 *   query with `filterId` = the last id), absent (`links: {}`) on the last page. An empty `filter` is none.
 * - An unknown code in `selectedAttributes` is a 400, as an unknown `$code$` in the filter.
 * - Trashed cards are left out unless the filter itself names `entity.deleted`; GET of one card by id shows a
 *   trashed card (`deleted: true`).
 * - POST and PATCH with per-attribute errors answer 400: an ApiException whose `message` joins the attribute
 *   messages, plus `meta.errors` with the per-attribute errors; the card is not saved. A duplicate unique value
 *   is such an error (400, not 409).
 * - Bulk PUT answers 200 whatever the items did; a refused item has `errors` and `dataCard: null` (create) or
 *   the unchanged card's `{dataCardId, name, url}` (modify); `importResult` counts items. Items are applied in
 *   order, so a later item sees the unique values of an earlier one.
 * - PATCH requires `dataCardId` in the body, equal to the path's; writes to a trashed card answer 409.
 * - Attribute calls: GET answers `{name, type, values}` (as in a card's `data`); PUT/POST/DELETE answer
 *   ApiResponse `{code, message, timestamp}`; POST adds to a multi-value attribute (or an empty one).
 * - `createEmptyReferences` is accepted and ignored.
 */
import { EqlError, eqlPredicate } from './eql.js';
import { attributeJson, cardJson, cardUrl, infoElement, templateJson, templateList } from './render.js';
import type { Store, StoredCard, Template, WriteOutcome } from './store.js';
import type { AttributeError } from './values.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra fields of the body (`meta.errors` of a refused write). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Bytes sent as they are (file downloads; content-type in headers). */
  raw?: Buffer;
  /** Streams the body instead (`/data/stream`). */
  stream?: (write: (chunk: string) => Promise<void>) => Promise<void>;
}

export interface CallContext {
  store: Store;
  login: string;
  now: () => number;
  /** `http://127.0.0.1:PORT/rest-api/itsm/v1` as the client reached it. */
  base: string;
  /** The request path (for `meta.url`). */
  url: string;
  query: URLSearchParams;
  body: unknown;
  /** The request's content type (multipart uploads). */
  contentType: string;
  canWrite: (template: string) => boolean;
  /** Attributes of a template the user may not see. */
  hidden: (template: string) => ReadonlySet<string>;
  /** Largest file upload (413 above). */
  maxFileBytes: number;
}

export const MAX_LIMIT = 200;
const FORBIDDEN = 'User is forbidden to update the resource';
const iso = (ms: number): string => new Date(ms).toISOString();
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function template(store: Store, code: string): Template {
  const t = store.templates.get(code);
  if (!t) throw new HttpError(404, `Couldn't find template with code: ${code}`);
  return t;
}

export function cardOf(store: Store, t: Template, idText: string): StoredCard {
  const id = /^\d+$/.test(idText) ? Number(idText) : Number.NaN;
  const card = Number.isSafeInteger(id) ? store.card(id) : undefined;
  if (!card || card.template !== t.code) {
    throw new HttpError(404, `Couldn't find data card with id: ${idText} from template: ${t.code}`);
  }
  return card;
}

export function writable(ctx: CallContext, t: Template): void {
  if (!ctx.canWrite(t.code)) throw new HttpError(403, FORBIDDEN);
}

function booleanParam(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null || v === '') return false;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  throw new HttpError(400, `Parameter '${name}' must be true or false, not '${v}'`);
}

function selectedAttributes(t: Template, query: URLSearchParams): string[] | undefined {
  const raw = query.get('selectedAttributes');
  if (raw === null || raw.trim() === '') return undefined;
  const codes = raw
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const c of codes) {
    if (!t.attributes.has(c))
      throw new HttpError(400, `Couldn't find attribute with code: ${c} from template: ${t.name}`);
  }
  return [...new Set(codes)];
}

function selection(ctx: CallContext, t: Template) {
  const filter = ctx.query.get('filter');
  let predicate: ReturnType<typeof eqlPredicate> | undefined;
  if (filter !== null && filter.trim() !== '') {
    try {
      predicate = eqlPredicate(filter, {
        templateCode: t.code,
        attributeType: (code) => t.attributes.get(code)?.type,
        now: ctx.now(),
      });
    } catch (e) {
      if (e instanceof EqlError) throw new HttpError(400, `Invalid filter: ${e.message}`);
      throw e;
    }
  }
  return {
    predicate: predicate?.predicate,
    includeDeleted: predicate?.mentionsDeleted ?? false,
    hints: predicate?.hints,
    selected: selectedAttributes(t, ctx.query),
    full: booleanParam(ctx.query, 'dataCards'),
    hidden: ctx.hidden(t.code),
  };
}

function intParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  const n = /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(400, `Parameter '${name}' must be an integer from ${min} to ${max}, not '${v}'`);
  }
  return n;
}

export function listCards(ctx: CallContext, code: string): Reply {
  const t = template(ctx.store, code);
  const limit = intParam(ctx.query, 'limit', 1, MAX_LIMIT);
  if (limit === undefined) throw new HttpError(400, "Required request parameter 'limit' is not present");
  const filterId = intParam(ctx.query, 'filterId', 0, 2 ** 31 - 1) ?? 0;
  const sel = selection(ctx, t);
  const page: StoredCard[] = [];
  let more = false;
  for (const card of ctx.store.query(t.code, { ...sel, below: filterId })) {
    if (page.length === limit) {
      more = true;
      break;
    }
    page.push(card);
  }
  const links: Record<string, string> = {};
  if (more) {
    const next = new URLSearchParams(ctx.query);
    next.set('filterId', String(page[page.length - 1].id));
    links.next = `${ctx.base}/dc/${encodeURIComponent(t.code)}/data?${next.toString()}`;
  }
  const data = page.map((c) =>
    sel.full ? cardJson(ctx.store, c, sel.selected, sel.hidden) : infoElement(ctx.store, c),
  );
  return { status: 200, body: { meta: { count: data.length, limit, links }, data } };
}

export function streamCards(ctx: CallContext, code: string): Reply {
  const t = template(ctx.store, code);
  const sel = selection(ctx, t);
  // Ids are taken first, so that the answer is the cards as they were when the call came.
  const cards = [...ctx.store.query(t.code, sel)];
  return {
    status: 200,
    stream: async (write) => {
      await write('{"data":[');
      for (let i = 0; i < cards.length; i++) {
        const item = sel.full
          ? cardJson(ctx.store, cards[i], sel.selected, sel.hidden)
          : infoElement(ctx.store, cards[i]);
        await write((i > 0 ? ',' : '') + JSON.stringify(item));
      }
      await write(`],"meta":{"count":${cards.length}}}`);
    },
  };
}

export function getCard(ctx: CallContext, code: string, id: string): Reply {
  const t = template(ctx.store, code);
  const card = cardOf(ctx.store, t, id);
  return { status: 200, body: cardJson(ctx.store, card, selectedAttributes(t, ctx.query), ctx.hidden(t.code)) };
}

function refused(errors: AttributeError[], url: string, now: number): HttpError {
  return new HttpError(400, `Data card was not saved: ${errors.map((e) => e.message).join('; ')}`, {
    meta: { timestamp: iso(now), url, errors },
  });
}

function writeMeta(ctx: CallContext, saved: boolean): Record<string, unknown> {
  return {
    timestamp: iso(ctx.now()),
    url: ctx.url,
    errors: [],
    createdReferences: [],
    importResult: { handledDataCards: 1, savedDataCards: saved ? 1 : 0, notSavedDataCards: saved ? 0 : 1 },
  };
}

function written(ctx: CallContext, outcome: WriteOutcome, status: number): Reply {
  if (!outcome.ok) throw refused(outcome.errors, ctx.url, ctx.now());
  const full = booleanParam(ctx.query, 'dataCards');
  const hidden = ctx.hidden(outcome.card.template);
  const dataCard = full ? cardJson(ctx.store, outcome.card, undefined, hidden) : infoElement(ctx.store, outcome.card);
  return { status, body: { meta: writeMeta(ctx, true), dataCard } };
}

export function createCard(ctx: CallContext, code: string): Reply {
  const t = template(ctx.store, code);
  writable(ctx, t);
  const body = ctx.body;
  if (!isObject(body)) throw new HttpError(400, 'The body must be a data card {folderCode, data}');
  if (body.folderCode === undefined || body.folderCode === null || body.folderCode === '') {
    throw new HttpError(400, 'folderCode is required to create a data card');
  }
  if (typeof body.folderCode !== 'string' || !t.folders.has(body.folderCode)) {
    throw new HttpError(400, `Folder '${String(body.folderCode)}' is not allowed for template '${t.code}'`);
  }
  if (!isObject(body.data)) throw new HttpError(400, 'data is required to create a data card');
  const outcome = ctx.store.write(ctx.login, ctx.now, t, {
    folderCode: body.folderCode,
    data: body.data,
    hidden: ctx.hidden(t.code),
  });
  return written(ctx, outcome, 201);
}

export function patchCard(ctx: CallContext, code: string, id: string): Reply {
  const t = template(ctx.store, code);
  writable(ctx, t);
  const card = cardOf(ctx.store, t, id);
  const body = ctx.body;
  if (!isObject(body)) throw new HttpError(400, 'The body must be a data card {dataCardId, data}');
  if (body.dataCardId === undefined || body.dataCardId === null) throw new HttpError(400, 'dataCardId is required');
  if (String(body.dataCardId) !== String(card.id)) {
    throw new HttpError(
      400,
      `dataCardId ${String(body.dataCardId)} of the body is not the card ${card.id} of the path`,
    );
  }
  if (!isObject(body.data)) throw new HttpError(400, 'data is required to modify a data card');
  if (card.deleted) throw new HttpError(409, `Data card ${card.id} is in the trash`);
  const outcome = ctx.store.write(ctx.login, ctx.now, t, {
    card,
    folderCode: body.folderCode,
    data: body.data,
    hidden: ctx.hidden(t.code),
  });
  return written(ctx, outcome, 200);
}

function bulkItem(ctx: CallContext, t: Template, item: unknown): { dataCard: unknown; errors: AttributeError[] } {
  const error = (message: string): AttributeError[] => [
    { attributeCode: null, attributeType: null, message, error: 'Bad Request' },
  ];
  if (!isObject(item)) return { dataCard: null, errors: error('An item must be a data card {folderCode, data}') };
  let card: StoredCard | undefined;
  if (item.dataCardId !== undefined && item.dataCardId !== null) {
    const id = String(item.dataCardId);
    card = /^\d+$/.test(id) ? ctx.store.card(Number(id)) : undefined;
    if (!card || card.template !== t.code) {
      return { dataCard: null, errors: error(`Couldn't find data card with id: ${id} from template: ${t.code}`) };
    }
  }
  const outcome = ctx.store.write(ctx.login, ctx.now, t, {
    card,
    folderCode: item.folderCode,
    data: item.data,
    hidden: ctx.hidden(t.code),
  });
  if (outcome.ok) return { dataCard: infoElement(ctx.store, outcome.card), errors: [] };
  return { dataCard: card ? infoElement(ctx.store, card) : null, errors: outcome.errors };
}

export function bulkPut(ctx: CallContext, code: string): Reply {
  const t = template(ctx.store, code);
  writable(ctx, t);
  if (!Array.isArray(ctx.body)) throw new HttpError(400, 'The body must be an array of data cards');
  const data = ctx.body.map((item) => bulkItem(ctx, t, item));
  const saved = data.filter((d) => d.errors.length === 0).length;
  const importResult = { handledDataCards: data.length, savedDataCards: saved, notSavedDataCards: data.length - saved };
  return { status: 200, body: { meta: { timestamp: iso(ctx.now()), url: ctx.url, importResult }, data } };
}

export function deleteCard(ctx: CallContext, code: string, id: string): Reply {
  const t = template(ctx.store, code);
  writable(ctx, t);
  const card = cardOf(ctx.store, t, id);
  if (!ctx.store.trash(card)) throw new HttpError(409, `Data card ${card.id} is already in the trash`);
  return {
    status: 200,
    body: { code: 200, message: `Data card ${card.id} was moved to the trash`, timestamp: iso(ctx.now()) },
  };
}

export function attributeCall(ctx: CallContext, method: string, code: string, id: string, attr: string): Reply {
  const t = template(ctx.store, code);
  if (method !== 'GET') writable(ctx, t);
  const card = cardOf(ctx.store, t, id);
  const def = t.attributes.get(attr);
  if (!def) throw new HttpError(404, `Couldn't find attribute with code: ${attr} from template: ${t.name}`);
  if (method === 'GET') return { status: 200, body: attributeJson(ctx.store, card, attr, ctx.hidden(t.code)) };
  if (card.deleted) throw new HttpError(409, `Data card ${card.id} is in the trash`);
  let values: unknown = [];
  if (method !== 'DELETE') {
    values = isObject(ctx.body) ? ctx.body.values : undefined;
    if (!Array.isArray(values)) throw new HttpError(400, 'The body must be {values: [...]}');
  }
  const outcome = ctx.store.write(ctx.login, ctx.now, t, {
    card,
    data: { [attr]: { values } },
    mode: method === 'POST' ? 'add' : 'replace',
    hidden: ctx.hidden(t.code),
  });
  if (!outcome.ok) throw refused(outcome.errors, ctx.url, ctx.now());
  const verb = method === 'POST' ? 'added to' : method === 'PUT' ? 'replaced in' : 'cleared in';
  return {
    status: 200,
    body: { code: 200, message: `Values ${verb} attribute ${attr} of data card ${card.id}`, timestamp: iso(ctx.now()) },
  };
}

export function templates(ctx: CallContext): Reply {
  return { status: 200, body: templateList(ctx.store) };
}

export function describeTemplate(ctx: CallContext, code: string): Reply {
  return { status: 200, body: templateJson(template(ctx.store, code)) };
}

export { cardUrl };
