/**
 * Reads the connector and task blocks and applies the defaults written in schemas/connectors/rest.json,
 * so that the rest of the folder works with complete, validated settings.
 */
import type { RestConnector, RestPagination, RestSource } from '../../generated/types.js';
import { parseDuration } from '../../model/duration.js';
import type { Connector, Task } from '../../model/resources.js';
import type { PagingPlan, PagingType, PlanOf } from '../kit/paging/plan.js';
import { bodyTotal, headerTotal, type TotalReader } from '../kit/paging/totals.js';
import { ExtractError } from '../types.js';

export type { PagingPlan } from '../kit/paging/plan.js';

export const DEFAULT_TIMEOUT = '30s';
export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_SAFETY_THRESHOLD = 10_000;

export function restBlock(connector: Connector): RestConnector {
  const rest = connector.spec.rest;
  if (!rest) throw new ExtractError(`connector "${connector.metadata.name}" has no spec.rest block`);
  return rest;
}

export function restSource(task: Task): RestSource {
  const source = task.spec.source?.rest;
  if (!source) throw new ExtractError(`task "${task.metadata.name}" has no spec.source.rest block`);
  return source;
}

export function timeoutMs(rest: RestConnector): number {
  try {
    return parseDuration(rest.timeout ?? DEFAULT_TIMEOUT);
  } catch (e) {
    throw new ExtractError(`spec.rest.timeout: ${(e as Error).message}`);
  }
}

type Pagination = RestPagination | undefined;

/** Each pagination type's defaults (schemas/connectors/rest.json). */
const PLANS: { [T in PagingType]: (p: Pagination) => PlanOf<T> } = {
  none: () => ({ type: 'none' }),
  startOffset: (p) => ({
    type: 'startOffset',
    startParam: p?.startParam ?? 'offset',
    limitParam: p?.limitParam ?? 'limit',
    firstIndex: p?.firstIndex ?? 0,
    pageSize: p?.pageSize ?? DEFAULT_PAGE_SIZE,
  }),
  pageIncrement: (p) => ({
    type: 'pageIncrement',
    pageParam: p?.pageParam ?? 'page',
    sizeParam: p?.sizeParam ?? 'size',
    firstPage: p?.firstPage ?? 1,
    pageSize: p?.pageSize ?? DEFAULT_PAGE_SIZE,
  }),
  linkToken: (p) => {
    if (!p?.nextLinkPath && !p?.linkHeader) {
      throw new ExtractError('spec.rest.pagination: linkToken paging needs nextLinkPath or linkHeader: true');
    }
    return { type: 'linkToken', nextLinkPath: p.nextLinkPath, linkHeader: p.linkHeader === true };
  },
  linkAttributeToken: (p) => ({
    type: 'linkAttributeToken',
    tokenPath: p?.tokenPath ?? 'nextPageToken',
    tokenParam: p?.tokenParam ?? 'pageToken',
  }),
};

/** The pagination block with its defaults; `variant: google` without one pages Google style (nextPageToken / pageToken). */
export function pagingPlan(rest: RestConnector): PagingPlan {
  const p: Pagination = rest.pagination ?? (rest.variant === 'google' ? { type: 'linkAttributeToken' } : undefined);
  return PLANS[p?.type ?? 'none'](p);
}

/**
 * The total the source announces on its first page: at `pagination.totalPath` in the body when set,
 * else the `X-Total-Count` header when the source sends one.
 */
export function totalReader(rest: RestConnector): TotalReader {
  const path = rest.pagination?.totalPath;
  return path ? bodyTotal(path, 'spec.rest.pagination.totalPath') : headerTotal('X-Total-Count');
}
