/**
 * A paging configuration with every default filled in, one variant per pagination type. Connector types
 * build one from their own settings (the REST connector from spec.rest.pagination) and get the matching
 * strategy from strategies.ts.
 */
export type PagingPlan =
  | { type: 'none' }
  | { type: 'startOffset'; startParam: string; limitParam: string; firstIndex: number; pageSize: number }
  | { type: 'pageIncrement'; pageParam: string; sizeParam: string; firstPage: number; pageSize: number }
  | { type: 'linkToken'; nextLinkPath?: string; linkHeader: boolean }
  | { type: 'linkAttributeToken'; tokenPath: string; tokenParam: string };

export type PagingType = PagingPlan['type'];

/** The plan of one pagination type. */
export type PlanOf<T extends PagingType> = Extract<PagingPlan, { type: T }>;
