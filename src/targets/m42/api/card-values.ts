/**
 * Values between Provisio's plain card attributes and the API's `{values: [...]}` shape. Every attribute of
 * the API is a list of values, single-valued or not; what a value looks like depends on the attribute's
 * type (shared/reference/m42-rest-api.md "Card JSON"): `{value}` for text, numbers, dates and static
 * values, `{dataCardId}` for references on write, `{name, dataCardId, ...}` on read.
 */
import type { CardJson, ReadValue, TemplateAttribute, WriteData } from './types.js';

/** The values of one attribute for a write; null, undefined and '' clear it (`values: []`). */
export function writeValues(
  value: unknown,
  type: TemplateAttribute['type'] | undefined,
): Array<Record<string, unknown>> {
  if (value === null || value === undefined || value === '') return [];
  const list = Array.isArray(value) ? value : [value];
  const out: Array<Record<string, unknown>> = [];
  for (const v of list) {
    if (v === null || v === undefined || v === '') continue;
    out.push(writeValue(v, type));
  }
  return out;
}

function writeValue(v: unknown, type: TemplateAttribute['type'] | undefined): Record<string, unknown> {
  if (type === 'reference') {
    // Resolved by the caller into {dataCardId}; a number alone is taken as one.
    if (typeof v === 'number') return { dataCardId: v };
    if (typeof v === 'object' && v !== null && 'dataCardId' in v)
      return { dataCardId: (v as { dataCardId: unknown }).dataCardId };
  }
  if (type === 'number') {
    const n = typeof v === 'number' ? v : Number(v);
    if (typeof v !== 'boolean' && Number.isFinite(n) && String(v).trim() !== '') return { value: n };
  }
  if (typeof v === 'object') return { value: JSON.stringify(v) };
  return { value: typeof v === 'string' ? v : String(v) };
}

/** `{code: {values}}` for the attributes of a card; attributes the template does not know are the caller's to refuse. */
export function writeData(
  attributes: Record<string, unknown>,
  types: Readonly<Record<string, TemplateAttribute>>,
): WriteData {
  const data: WriteData = {};
  for (const [code, value] of Object.entries(attributes))
    data[code] = { values: writeValues(value, types[code]?.type) };
  return data;
}

/**
 * One value as read, as Provisio's records carry it: text, numbers and dates as they are, a static value as
 * its value, a reference as `{name, dataCardId}` (mapping paths pick `.name` or `.dataCardId`), a file as
 * `{name, location}`, a worklog entry as `{author, value, date}`.
 */
export function readValue(v: ReadValue, type: string | undefined): unknown {
  if (type === 'reference' || ('dataCardId' in v && !('value' in v))) {
    return { name: v.name ?? null, dataCardId: v.dataCardId ?? null };
  }
  if (type === 'external-reference') return { name: v.name ?? null, location: v.location ?? null };
  if (type === 'worklog') return { author: v.author ?? null, value: v.value ?? null, date: v.date ?? null };
  return v.value ?? null;
}

/**
 * A card as a plain record: `dataCardId`, `name`, `folderCode` and every attribute code; single-valued
 * attributes as one value (null when empty), multi-valued ones as a list. `multi` says which are multi-valued
 * (from the template); without it, an attribute with more than one value is a list.
 */
export function plainCard(card: CardJson, multi?: (code: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    dataCardId: card.dataCardId,
    name: card.name ?? null,
    folderCode: card.folderCode ?? null,
  };
  for (const [code, attr] of Object.entries(card.data ?? {})) {
    const values = (attr.values ?? []).map((v) => readValue(v, attr.type));
    const isMulti = multi ? multi(code) : values.length > 1;
    out[code] = isMulti ? values : (values[0] ?? null);
  }
  return out;
}

/** The first value of an attribute as text (unique values, task ids, markings); undefined when empty. */
export function firstText(card: CardJson, code: string): string | undefined {
  const v = card.data?.[code]?.values?.[0];
  if (!v) return undefined;
  const raw = 'value' in v ? v.value : v.name;
  return raw === null || raw === undefined ? undefined : String(raw);
}
