/**
 * Generic mappings: any Graph path (`/deviceManagement/managedDevices`), every page, with one level of
 * subqueries per record (`/deviceManagement/managedDevices/{id}/windowsProtectionState`). A page's subqueries go
 * out as `$batch` requests of twenty (one call instead of twenty, item throttles waited out); each result is
 * stored on the record under its template (kit/subqueries.ts), a list answer as its `value` (so `.0.` indexes
 * it, further pages followed), a 404 as null.
 */
import { expandSubquery } from '../kit/subqueries.js';
import { type ExtractContext, ExtractError, type ExtractedRecord } from '../types.js';
import type { GraphObject } from './api.js';
import { type BatchAnswer, batchGet } from './batch.js';
import { graphUrl } from './config.js';
import { incomplete, type RunState, record } from './full.js';

export async function* genericRead(ctx: ExtractContext, s: RunState): AsyncGenerator<ExtractedRecord> {
  const { query, subqueries = [] } = s.plan.source;
  if (!query) throw new ExtractError('a generic Microsoft Graph task needs spec.source.msgraph.query');
  const listing = s.api.list(graphUrl(s.host, query));
  for await (const page of listing) {
    const rows = subqueries.length > 0 ? await withPageSubqueries(ctx, s, page, subqueries) : page;
    for (const row of rows) yield record(s, 'generic', row);
    s.progress();
  }
  incomplete(s, listing.outcome());
}

/** `/v1.0/users/{id}` → `/users/{id}`: $batch URLs are relative to the version. */
const batchPath = (query: string): string => query.replace(/^\/?v1\.0(?=\/)/, '');

async function withPageSubqueries(
  ctx: ExtractContext,
  s: RunState,
  page: GraphObject[],
  templates: readonly string[],
): Promise<GraphObject[]> {
  const expanded = page.map((row) => templates.map((t) => expandSubquery(t, row)));
  const paths = expanded.flatMap((list) => list.flatMap((e) => ('query' in e ? [batchPath(e.query)] : [])));
  const answers = await batchGet(s.api, s.host, paths, ctx.signal);
  const out: GraphObject[] = [];
  for (let i = 0; i < page.length; i++) {
    const row: GraphObject = { ...page[i] };
    for (let t = 0; t < templates.length; t++) {
      const e = expanded[i][t];
      row[templates[t]] = 'query' in e ? await result(s, batchPath(e.query), answers.get(batchPath(e.query))) : null;
    }
    out.push(row);
  }
  return out;
}

async function result(s: RunState, path: string, a: BatchAnswer | undefined): Promise<unknown> {
  if (!a || a.status === 404) return null;
  if (a.status < 200 || a.status >= 300) {
    const error = (a.body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ExtractError(
      `subquery GET /v1.0${path} answered HTTP ${a.status}${error ? `: ${error.code}: ${error.message}` : ''}`,
    );
  }
  const body = a.body as GraphObject | null;
  if (!body || !Array.isArray(body.value)) return body;
  const rows = [...body.value];
  const next = body['@odata.nextLink'];
  if (typeof next === 'string') {
    for await (const more of s.api.list(new URL(next))) rows.push(...more);
  }
  return rows;
}
