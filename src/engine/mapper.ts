/**
 * Compiles a mappings block (identity, access or generic) into a function that turns one extracted
 * record into a data card. Compiled once per run, evaluated for every record.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { type Accessor, compilePath, parsePath } from '../model/mapping-path.js';
import type { TaskMapping } from '../model/resources.js';
import type { Card } from '../targets/types.js';

export interface MappedRecord {
  /** Value of the unique attribute; undefined when the record lacks it (not loadable). */
  key?: string;
  card: Card;
  /** The card as JSON, stamps included (what the target stores). */
  json: string;
  /** Hash of the card's mapped content; equal hashes mean nothing changed since the last load. */
  hash: string;
  /** Attributes that could not be mapped, with why. */
  errors: string[];
}

export interface CompiledMapping {
  template: string;
  folder?: string;
  uniqueAttribute: string;
  uniqueExternal: string;
  map(record: unknown): MappedRecord;
}

export interface Stamps {
  taskId: string;
  connectorType: string;
}

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

export function compileMapping(block: TaskMapping, subqueries: readonly string[], stamps: Stamps): CompiledMapping {
  const unique = block.attributes.find((a) => a.unique) ?? block.attributes[0];
  const fields: Array<{ local: string; external: string; read: Accessor; fallback: unknown }> = block.attributes.map(
    (a) => ({
      local: a.local,
      external: a.external,
      read: compilePath(parsePath(a.external, subqueries)),
      fallback: a.default ?? null,
    }),
  );
  const stampEntries: Array<[string, string]> = [];
  if (block.taskIdAttribute) stampEntries.push([block.taskIdAttribute, stamps.taskId]);
  if (block.dataSourceTypeAttribute) stampEntries.push([block.dataSourceTypeAttribute, stamps.connectorType]);
  // `,"task_id":"iga/x"}`: appended to the content JSON, so a card is serialized once.
  const stampJson = stampEntries.length > 0 ? `,${JSON.stringify(Object.fromEntries(stampEntries)).slice(1)}` : '}';

  const build = cardBuilder(fields.map((f) => f.local));
  const values: unknown[] = new Array(fields.length);

  return {
    template: block.template,
    folder: block.folder,
    uniqueAttribute: unique.local,
    uniqueExternal: unique.external,
    map(record: unknown): MappedRecord {
      const errors: string[] = [];
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i];
        let value = f.read(record);
        if (Array.isArray(value) && value.some(isPlainObject)) {
          // DESIGN §2: a path that yields a list of objects is an error; the user must pick one.
          errors.push(`${f.external} yields a list of objects; pick an element with .0. or a field of it`);
          value = undefined;
        }
        values[i] = value === undefined || value === null || value === '' ? f.fallback : value;
      }
      const card = build(values);
      const raw = card[unique.local];
      const key = raw === null || raw === undefined || raw === '' || typeof raw === 'object' ? undefined : String(raw);
      // The hash covers mapped content only; stamps are constant per task and change with the mapping hash.
      const content = JSON.stringify(card);
      const hash = oneShotHash('sha1', content, 'base64url');
      const json =
        stampEntries.length === 0
          ? content
          : content === '{}'
            ? `{${stampJson.slice(1)}`
            : content.slice(0, -1) + stampJson;
      for (const [attr, value] of stampEntries) card[attr] = value;
      return { key, card, json, hash, errors };
    },
  };
}

/**
 * A function that makes a card from the mapped values, in attribute order: `(v) => ({"a": v[0], ...})`.
 * Every card of a run then has the same shape, built in one step, which V8 creates and serializes about
 * twice as fast as an object grown one attribute at a time (the mapper runs for every record). The names
 * go into the code as JSON string literals, which are valid JavaScript string literals, so no name can
 * change the code; `__proto__` is written as a computed key so that it stays an ordinary attribute.
 */
function cardBuilder(locals: readonly string[]): (values: readonly unknown[]) => Card {
  const entries = locals.map((name, i) => {
    const literal = JSON.stringify(name);
    return `${name === '__proto__' ? `[${literal}]` : literal}: v[${i}]`;
  });
  return new Function('v', `"use strict"; return {${entries.join(', ')}};`) as (values: readonly unknown[]) => Card;
}

/** Hash of everything that decides how records are mapped; a change clears the task cache. */
export function mappingHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}
