/** Everything one run works with, opened once when it starts (run-task.ts) and handed to its phases. */
import { join } from 'node:path';
import type { ConnectorType } from '../connectors/types.js';
import type { Logger } from '../log/logger.js';
import { parseDuration } from '../model/duration.js';
import type { Cursors, RecordKind } from '../model/records.js';
import type { Connector, Task } from '../model/resources.js';
import { keyOf, namespaceOf } from '../model/resources.js';
import type { Target } from '../targets/types.js';
import { SecretScrubber } from '../transport/scrub.js';
import { ArtifactWriter } from './artifacts.js';
import { prepareCache } from './cache-policy.js';
import { DeferredRecords } from './deferred-records.js';
import type { EngineDeps, RunRequest } from './engine-deps.js';
import { type KindPlan, planKinds } from './kind-plans.js';
import { LoadPipeline } from './load-pipeline.js';
import { PROGRESS_LOG_EVERY_MS, RunRecord } from './run-record.js';

export interface RunContext {
  deps: EngineDeps;
  req: RunRequest;
  task: Task;
  connector: Connector;
  taskKey: string;
  type: ConnectorType;
  target: Target;
  log: Logger;
  /** The stop signal and the task's timeout together. */
  signal: AbortSignal;
  record: RunRecord;
  plans: Map<RecordKind, KindPlan>;
  pipeline: LoadPipeline;
  artifacts: ArtifactWriter;
  artifactsDir: string;
  deferred: DeferredRecords;
  incremental: boolean;
  /** The cursors this run starts from; a kind that must be read in full again is taken out. */
  cursors: Cursors;
  /** Kinds read in full again after ResyncRequired. */
  resynced: Set<RecordKind>;
  deferredDir: string;
  /** Scrubs credentials from every extracted record before artifacts and cards (record-scrubber.ts). */
  scrubber: SecretScrubber;
}

export function openRun(deps: EngineDeps, req: RunRequest): RunContext {
  const now = req.now ?? (() => new Date());
  const { task, connector } = req;
  const taskKey = keyOf(task);
  const log = deps.log.child({ task: taskKey, run: req.runId });
  const record = new RunRecord(req, now, { log, everyMs: deps.progressLogEveryMs ?? PROGRESS_LOG_EVERY_MS });
  const type = deps.connectorTypes.get(connector.spec.type);
  const target = deps.targets.targetFor(connector);
  const incremental = task.spec.fetch === 'incremental';
  prepareCache(deps.cache, task, taskKey, now(), log);
  const artifactsDir = join(deps.artifactsRoot, namespaceOf(task), task.metadata.name);
  const runDir = join(artifactsDir, req.runId);
  return {
    deps,
    req,
    task,
    connector,
    taskKey,
    type,
    target,
    log,
    signal: AbortSignal.any([req.signal, AbortSignal.timeout(parseDuration(task.spec.timeout ?? '2h'))]),
    record,
    plans: planKinds(task, type, { taskId: taskKey, connectorType: connector.spec.type }),
    pipeline: new LoadPipeline({
      target,
      cache: deps.cache,
      taskKey,
      runId: req.runId,
      record,
      batchSize: deps.batchSize ?? target.batchSize ?? 500,
    }),
    artifacts: new ArtifactWriter(runDir),
    artifactsDir,
    deferred: new DeferredRecords(join(runDir, '.deferred')),
    deferredDir: join(runDir, '.deferred'),
    incremental,
    cursors: incremental ? { ...deps.cache.meta(taskKey).cursors } : {},
    resynced: new Set(),
    scrubber: new SecretScrubber(),
  };
}
