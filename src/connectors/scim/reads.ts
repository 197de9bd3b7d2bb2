/**
 * One kind's read for a run: `/Users` or `/Groups` with the task's filter, and, in an incremental run with a
 * cursor, `meta.lastModified gt "<cursor>"` added. A server that answers 400 to that clause cannot continue
 * from the cursor: ResyncRequired, and the engine reads the kind in full (and marks what that read missed).
 * Tracks the highest `meta.lastModified` seen: the kind's next cursor.
 */
import type { Logger } from '../../log/logger.js';
import { isRecord } from '../kit/markers.js';
import { type RecordKind, ResyncRequired } from '../types.js';
import { type ScimApi, ScimRefusal } from './api.js';
import { endpoint } from './config.js';
import { allOf, modifiedAfter } from './filter.js';
import { type ListOutcome, listResources, type ScimResource } from './list.js';

export interface KindQuery {
  kind: RecordKind;
  path: '/Users' | '/Groups';
  noun: 'users' | 'groups';
  /** The task's filter and the setting it comes from, for messages. */
  filter?: string;
  filterField: string;
  attributes?: readonly string[];
  pageSize: number;
  /** The cursor to read after; undefined reads in full. */
  cursor?: string;
}

export interface KindRead extends AsyncIterable<ScimResource[]> {
  /** Whether the read is full (no cursor): only a full read knows every membership. */
  readonly full: boolean;
  /** The highest meta.lastModified seen, as the server wrote it. */
  readonly highest: string | undefined;
  outcome(): ListOutcome;
}

const modified = (r: ScimResource): string | undefined => {
  const v = isRecord(r.meta) ? r.meta.lastModified : undefined;
  return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : undefined;
};

export function readKind(api: ScimApi, base: URL, query: KindQuery, log: Logger): KindRead {
  const state: { full: boolean; highest?: string; outcome?: ListOutcome } = {
    full: query.cursor === undefined,
    highest: query.cursor,
  };
  let highestMs = state.highest === undefined ? Number.NEGATIVE_INFINITY : Date.parse(state.highest);
  const url = endpoint(base, query.path);
  const list = (cursor: string | undefined, attributes: readonly string[] | undefined) =>
    listResources(api, {
      url,
      noun: query.noun,
      filter: allOf(query.filter, cursor === undefined ? undefined : modifiedAfter(cursor)),
      attributes,
      pageSize: query.pageSize,
    });
  const tracked = async function* (listing: ReturnType<typeof list>): AsyncGenerator<ScimResource[]> {
    for await (const page of listing) {
      for (const r of page) {
        const m = modified(r);
        if (m !== undefined && Date.parse(m) > highestMs) [highestMs, state.highest] = [Date.parse(m), m];
      }
      yield page;
    }
    state.outcome = listing.outcome();
  };
  async function* pages(): AsyncGenerator<ScimResource[]> {
    const cursor = query.cursor;
    if (cursor !== undefined && Number.isNaN(Date.parse(cursor))) {
      throw new ResyncRequired(query.kind, `the stored cursor "${cursor}" is not a meta.lastModified time`);
    }
    let attributes = query.attributes;
    for (;;) {
      let yielded = false;
      try {
        for await (const page of tracked(list(cursor, attributes))) {
          yielded = true;
          yield page;
        }
        return;
      } catch (e) {
        const refused = e instanceof ScimRefusal && e.httpStatus === 400 && !yielded;
        if (refused && attributes !== undefined && e.scimType !== 'invalidFilter') {
          // Some servers refuse extension attributes in attributes= (SCIMMY among them): ask for everything.
          log.warn(
            { request: `GET ${query.path}` },
            `GET ${query.path} refused attributes=${attributes.join(',')} (${e.message}); asking for every attribute`,
          );
          attributes = undefined;
        } else if (refused && cursor !== undefined) {
          throw new ResyncRequired(
            query.kind,
            `GET ${query.path} refused the filter on meta.lastModified: ${e.message}`,
          );
        } else throw refusedFilter(e, query);
      }
    }
  }
  return {
    [Symbol.asyncIterator]: pages,
    get full() {
      return state.full;
    },
    get highest() {
      return state.highest;
    },
    outcome: () => state.outcome ?? { complete: true, read: 0 },
  };
}

/** A 400 to the task's own filter fails the run with the server's detail and the setting to fix. */
function refusedFilter(e: unknown, query: KindQuery): unknown {
  if (!(e instanceof ScimRefusal) || e.httpStatus !== 400 || !query.filter) return e;
  return new ScimRefusal(`${e.message} (${query.filterField}: ${query.filter})`, e.httpStatus, e.scimType);
}
