/**
 * Deletion marking after a complete full run (DESIGN §4, "Deletions you can trust"): a card this task
 * loaded whose record the run did not see is missing once more; it is marked deleted only when it was
 * missing from `deletion.confirmRuns` complete runs in a row, and never when that would mark more than
 * `deletion.maxFraction` of the task's cards. Only called after the connector declared the extract complete.
 */
import type { Logger } from '../log/logger.js';
import { RunFailure } from '../model/errors.js';
import type { TaskCache } from '../state/task-cache.js';
import type { Target } from '../targets/types.js';
import type { KindPlan } from './kind-plans.js';

const CHUNK = 1000;

export interface DeletionPolicy {
  confirmRuns: number;
  maxFraction: number;
}

export interface MissingResult {
  marked: number;
  /** Records missing but not marked yet, by how many runs in a row they were missing. */
  waiting: Map<number, number>;
}

export interface MarkMissingOptions {
  target: Target;
  cache: TaskCache;
  taskKey: string;
  runId: string;
  plan: KindPlan;
  policy: DeletionPolicy;
  /** Keys the target refused this run: they were in the source, so they are not missing. */
  refused?: ReadonlySet<string>;
  log: Logger;
}

/**
 * Records this run saw start counting again from zero: the misses must be in a row. Done for every kind
 * before any kind is marked, so that a kind whose marking is refused cannot leave stale counts behind.
 */
export function resetSeenMisses(o: Pick<MarkMissingOptions, 'cache' | 'taskKey' | 'runId' | 'plan' | 'refused'>): void {
  o.cache.resetMisses(o.taskKey, o.plan.kind, o.runId);
  if ((o.refused?.size ?? 0) > 0) o.cache.dropMisses(o.taskKey, o.plan.kind, [...(o.refused ?? [])]);
}

export async function markMissing(o: MarkMissingOptions): Promise<MissingResult> {
  const { cache, taskKey, plan } = o;
  const { owned, unseen } = await findUnseen(o);
  const due: string[] = [];
  const waiting = new Map<number, number>();
  for (let i = 0; i < unseen.length; i += CHUNK) {
    for (const [key, misses] of cache.countMisses(taskKey, plan.kind, unseen.slice(i, i + CHUNK))) {
      if (misses >= o.policy.confirmRuns) due.push(key);
      else waiting.set(misses, (waiting.get(misses) ?? 0) + 1);
    }
  }
  if (due.length === 0) return { marked: 0, waiting };
  const template = plan.mapping.template;
  if (due.length / owned > o.policy.maxFraction) {
    const share = Math.round((due.length / owned) * 100);
    throw new RunFailure(
      `refusing to mark ${due.length} of ${owned} ${template} cards deleted ` +
        `(${share}% > deletion.maxFraction ${Math.round(o.policy.maxFraction * 100)}%); ` +
        'nothing was marked. If the source really lost these records, raise deletion.maxFraction for one run.',
      'DeletionRefused',
      false,
    );
  }
  const marked = await markKeys(o, due);
  const onDeleted = plan.block.onDeleted!;
  o.log.info(
    { template, marked, owned },
    `marked ${marked} ${template} cards deleted (${onDeleted.attribute} = ${onDeleted.value})`,
  );
  return { marked, waiting };
}

/** Streams the task's unmarked cards from the target and keeps those the run did not see. */
async function findUnseen(o: MarkMissingOptions): Promise<{ owned: number; unseen: string[] }> {
  const { block, mapping, kind } = o.plan;
  let owned = 0;
  const unseen: string[] = [];
  let chunk: string[] = [];
  const check = () => {
    for (const key of o.cache.unseenAmong(o.taskKey, kind, chunk, o.runId)) if (!o.refused?.has(key)) unseen.push(key);
    chunk = [];
  };
  for await (const key of o.target.ownedCards({
    template: mapping.template,
    uniqueAttribute: mapping.uniqueAttribute,
    taskIdAttribute: block.taskIdAttribute!,
    taskId: o.taskKey,
    notMarked: block.onDeleted!,
  })) {
    owned++;
    chunk.push(key);
    if (chunk.length >= CHUNK) check();
  }
  check();
  return { owned, unseen };
}

async function markKeys(o: MarkMissingOptions, keys: string[]): Promise<number> {
  const { mapping, kind, block } = o.plan;
  let marked = 0;
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    // A record that comes back must load again even if it did not change, so that it is restored: forgotten
    // before the marking, so that a crash in between costs a reload, never a card left marked.
    o.cache.forget(o.taskKey, kind, chunk);
    o.cache.dropMisses(o.taskKey, kind, chunk);
    marked += await o.target.markDeleted(mapping.template, mapping.uniqueAttribute, chunk, block.onDeleted!);
  }
  return marked;
}

/** "3 records missing once; marked after the next complete run" for each miss count that waits. */
export function describeWaiting(waiting: ReadonlyMap<number, number>, confirmRuns: number): string[] {
  const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);
  return [...waiting.entries()]
    .sort(([a], [b]) => b - a)
    .map(([misses, count]) => {
      const left = confirmRuns - misses;
      const when = left === 1 ? 'the next complete run' : `${left} more complete runs`;
      return `${count} record${count === 1 ? '' : 's'} missing ${times(misses)}; marked after ${when}`;
    });
}
