/**
 * One paged subtree search (RFC 2696 paged results on every search, so that a server's size limit never cuts a
 * read short unseen: a sizeLimitExceeded is thrown, never taken for the end of the data), with AD's ranged
 * attributes (`member;range=0-1499`) read to their end by base searches on the entry.
 */
import type { Client, Entry } from 'ldapts';
import { BINARY_ATTRIBUTES } from './values.js';

export interface SearchSpec {
  baseDn: string;
  filter: string;
  attributes: string[];
  pageSize: number;
}

export interface PagedRead {
  pages: AsyncGenerator<Entry[]>;
  /** Searches sent (pages and range reads). */
  calls(): number;
}

export function pagedSearch(client: Client, spec: SearchSpec): PagedRead {
  let calls = 0;
  const explicitBufferAttributes = [...BINARY_ATTRIBUTES, ...spec.attributes.filter((a) => /;binary$/i.test(a))];
  async function* pages(): AsyncGenerator<Entry[]> {
    const search = client.searchPaginated(spec.baseDn, {
      scope: 'sub',
      filter: spec.filter,
      attributes: spec.attributes,
      explicitBufferAttributes,
      paged: { pageSize: spec.pageSize },
    });
    for await (const page of search) {
      calls++;
      const out: Entry[] = [];
      for (const entry of page.searchEntries) {
        out.push(await completeRanges(client, entry, () => calls++));
      }
      yield out;
    }
  }
  return { pages: pages(), calls: () => calls };
}

const RANGE = /^(.+);range=(\d+)-(\d+|\*)$/i;

/** Replaces every `attr;range=a-b` of an entry by the whole `attr`, reading the next ranges until `-*`. */
export async function completeRanges(client: Client, entry: Entry, counted: () => void): Promise<Entry> {
  let any = false;
  for (const k in entry) if (k.includes(';range=') || k.includes(';Range=')) any = true;
  if (!any) return entry;
  const ranged = Object.keys(entry).filter((k) => RANGE.test(k));
  const out: Entry = { ...entry };
  for (const key of ranged) {
    const [, attr, , end] = RANGE.exec(key) as RegExpExecArray;
    const values: string[] = [...toList(entry[key])];
    delete out[key];
    let last = end;
    while (last !== '*') {
      const next = `${attr};range=${Number(last) + 1}-*`;
      counted();
      const { searchEntries } = await client.search(entry.dn, {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: [next],
      });
      const got = searchEntries[0] ?? { dn: entry.dn };
      const k = Object.keys(got).find((x) => RANGE.test(x) && x.toLowerCase().startsWith(`${attr.toLowerCase()};`));
      if (!k) break;
      values.push(...toList(got[k]));
      last = (RANGE.exec(k) as RegExpExecArray)[3];
    }
    out[attr] = values;
  }
  return out;
}

const toList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
