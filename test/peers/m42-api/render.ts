/**
 * The JSON the simulated API answers with: the template list and template description, full cards and
 * info elements. Urls are relative to the base (`/dc/incident/data/12345`, as the reference's example).
 *
 * Choices where the reference is silent:
 * - A card lists every attribute of its template (empty ones as `values: []`), or only `selectedAttributes`.
 * - An attribute hidden from the user reads as `values: []`, exactly like an empty one (the reference's
 *   "empty_or_unauthorized_attribute_code"); the template JSON still lists it.
 * - The template JSON shows `values` and `target` as arrays on every attribute (empty when not applicable),
 *   `file: true` only for external-reference attributes, and never whether an attribute is unique.
 */
import type { Store, StoredCard, Template } from './store.js';
import { apiType, type ReferencedCard, readValue } from './values.js';

/** One attribute of a card: `{name, type, values}`. */
export interface AttributeJson {
  name: string;
  type: string;
  values: Array<Record<string, unknown>>;
}

/** A card as the API reads it. */
export interface CardJson {
  name: string;
  dataCardId: number;
  templateName: string;
  templateCode: string;
  templateId: number;
  folderName: string;
  folderCode: string;
  hidden: boolean;
  deleted: boolean;
  data: Record<string, AttributeJson>;
}

export const cardUrl = (template: string, id: number): string => `/dc/${encodeURIComponent(template)}/data/${id}`;

export function templateList(store: Store): Array<{ name: string; templateCode: string; url: string }> {
  return [...store.templates.values()].map((t) => ({
    name: t.name,
    templateCode: t.code,
    url: `/dc/${encodeURIComponent(t.code)}`,
  }));
}

export function templateJson(t: Template): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const a of t.attributes.values()) {
    attributes[a.code] = {
      name: a.name,
      multiValue: a.multiValue,
      type: apiType(a.type),
      file: a.type === 'external-reference',
      values: a.values.map((v) => ({ code: v.code, value: v.value })),
      target: [...a.target],
    };
  }
  return {
    name: t.name,
    code: t.code,
    allowedFolders: [...t.folders].map(([folderCode, folderName]) => ({ folderName, folderCode })),
    attributes,
  };
}

export function infoElement(store: Store, card: StoredCard): { dataCardId: number; name: string; url: string } {
  return { dataCardId: card.id, name: store.cardName(card), url: cardUrl(card.template, card.id) };
}

function referenced(store: Store, id: number): ReferencedCard | undefined {
  const card = store.card(id);
  if (!card) return undefined;
  const t = store.templates.get(card.template)!;
  return {
    name: store.cardName(card),
    dataCardId: card.id,
    templateName: t.name,
    templateCode: t.code,
    deleted: card.deleted,
    hidden: card.hidden,
    url: cardUrl(t.code, card.id),
  };
}

/** One attribute as in a card's `data`: `{name, type, values}`. */
export function attributeJson(
  store: Store,
  card: StoredCard,
  code: string,
  hidden?: ReadonlySet<string>,
): AttributeJson {
  const t = store.templates.get(card.template)!;
  const a = t.attributes.get(code)!;
  return {
    name: a.name,
    type: apiType(a.type),
    values: hidden?.has(code)
      ? []
      : (card.values.get(code) ?? []).map((v) => readValue(v, (id) => referenced(store, id))),
  };
}

export function cardJson(
  store: Store,
  card: StoredCard,
  selected?: readonly string[],
  hidden?: ReadonlySet<string>,
): CardJson {
  const t = store.templates.get(card.template)!;
  const data: Record<string, AttributeJson> = {};
  for (const code of selected ?? t.attributes.keys()) data[code] = attributeJson(store, card, code, hidden);
  return {
    name: store.cardName(card),
    dataCardId: card.id,
    templateName: t.name,
    templateCode: t.code,
    templateId: t.id,
    folderName: t.folders.get(card.folder) ?? card.folder,
    folderCode: card.folder,
    hidden: card.hidden,
    deleted: card.deleted,
    data,
  };
}
