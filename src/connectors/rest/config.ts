/**
 * Reads the connector and task blocks and applies the defaults written in schemas/connectors/rest.json,
 * so that the rest of the folder works with complete, validated settings.
 */
import type { RestConnector, RestPagination, RestSource } from '../../generated/types.js';
import { parseDuration } from '../../model/duration.js';
import type { Connector, Task } from '../../model/resources.js';
import { ExtractError } from '../types.js';

export const DEFAULT_TIMEOUT = '30s';
export const DEFAULT_PAGE_SIZE = 100;
export const DEFAULT_SAFETY_THRESHOLD = 10_000;

/** Paging with every default filled in; one variant per pagination type. */
export type PagingPlan =
  | { type: 'none' }
  | { type: 'startOffset'; startParam: string; limitParam: string; firstIndex: number; pageSize: number }
  | { type: 'pageIncrement'; pageParam: string; sizeParam: string; firstPage: number; pageSize: number }
  | { type: 'linkToken'; nextLinkPath?: string; linkHeader: boolean }
  | { type: 'linkAttributeToken'; tokenPath: string; tokenParam: string };

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

/** `variant: google` without a pagination block pages Google style (nextPageToken / pageToken). */
export function pagingPlan(rest: RestConnector): PagingPlan {
  const p: RestPagination | undefined =
    rest.pagination ?? (rest.variant === 'google' ? { type: 'linkAttributeToken' } : undefined);
  switch (p?.type ?? 'none') {
    case 'none':
      return { type: 'none' };
    case 'startOffset':
      return {
        type: 'startOffset',
        startParam: p?.startParam ?? 'offset',
        limitParam: p?.limitParam ?? 'limit',
        firstIndex: p?.firstIndex ?? 0,
        pageSize: p?.pageSize ?? DEFAULT_PAGE_SIZE,
      };
    case 'pageIncrement':
      return {
        type: 'pageIncrement',
        pageParam: p?.pageParam ?? 'page',
        sizeParam: p?.sizeParam ?? 'size',
        firstPage: p?.firstPage ?? 1,
        pageSize: p?.pageSize ?? DEFAULT_PAGE_SIZE,
      };
    case 'linkToken':
      if (!p?.nextLinkPath && !p?.linkHeader) {
        throw new ExtractError('spec.rest.pagination: linkToken paging needs nextLinkPath or linkHeader: true');
      }
      return { type: 'linkToken', nextLinkPath: p.nextLinkPath, linkHeader: p.linkHeader === true };
    case 'linkAttributeToken':
      return {
        type: 'linkAttributeToken',
        tokenPath: p?.tokenPath ?? 'nextPageToken',
        tokenParam: p?.tokenParam ?? 'pageToken',
      };
  }
}
