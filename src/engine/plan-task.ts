/**
 * A dry run (`provisio plan`, ADR 0010): the engine's own run — extract, map, cache diff, load, deletion
 * marking with its guard — against the real source, over a target that records instead of writing and a cache
 * that is read but not written. Its extracted JSON goes to a scratch folder removed afterwards, so that the
 * task's kept artifacts are not pruned either.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskRunSummary } from '../model/resources.js';
import { runSucceeded } from '../model/run-outcome.js';
import type { EngineDeps, RunRequest } from './engine-deps.js';
import { PlanCache } from './plan-cache.js';
import { PlanRecorder, planTargets } from './plan-target.js';
import { runTask } from './run-task.js';

export interface PlanResult {
  /** The run as it would be recorded (counts, reason, extract and load info). */
  run: TaskRunSummary;
  /** The changes a run would make, with the first keys of each. */
  changes: PlanRecorder;
  /** false: the run would fail, or the deletion guard would refuse. */
  succeeds: boolean;
}

export async function planTask(
  deps: EngineDeps,
  req: Omit<RunRequest, 'onProgress'>,
  keepKeys = 100,
): Promise<PlanResult> {
  const changes = new PlanRecorder(keepKeys);
  const scratch = mkdtempSync(join(tmpdir(), 'provisio-plan-'));
  try {
    const run = await runTask(
      {
        ...deps,
        targets: planTargets(deps.targets, changes),
        cache: new PlanCache(deps.cache),
        artifactsRoot: scratch,
      },
      req,
    );
    return { run, changes, succeeds: runSucceeded(run) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
