/** The strategy of each pagination type: adding a style is adding a file and a line here. */
import { linkAttributeTokenPaging } from './link-attribute-token.js';
import { linkTokenPaging } from './link-token.js';
import { noPaging } from './none.js';
import { pageIncrementPaging } from './page-increment.js';
import type { PagingPlan, PagingType, PlanOf } from './plan.js';
import { startOffsetPaging } from './start-offset.js';
import type { PagingStrategy, StrategyOptions } from './strategy.js';

const STRATEGIES: { [T in PagingType]: (plan: PlanOf<T>, options: StrategyOptions) => PagingStrategy } = {
  none: noPaging,
  startOffset: startOffsetPaging,
  pageIncrement: pageIncrementPaging,
  linkToken: linkTokenPaging,
  linkAttributeToken: linkAttributeTokenPaging,
};

export function pagingStrategy(plan: PagingPlan, options: StrategyOptions): PagingStrategy {
  const make = STRATEGIES[plan.type] as (plan: PagingPlan, options: StrategyOptions) => PagingStrategy;
  return make(plan, options);
}
