/** What the engine is given to run a task: its ports and settings, and one run's request. */
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { Logger } from '../log/logger.js';
import type { Connector, Task, TaskRunSummary } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';
import type { TaskCache } from '../state/task-cache.js';
import type { TargetFactory } from '../targets/types.js';

export interface EngineDeps {
  /** Each connector's target (the home solution's, with the connector's webApi credentials, or local). */
  targets: TargetFactory;
  connectorTypes: ConnectorRegistry;
  cache: TaskCache;
  secrets: SecretResolver;
  log: Logger;
  /** Folder that keeps the extracted JSON of the last runs, per task. */
  artifactsRoot: string;
  keepArtifacts?: number;
  batchSize?: number;
  /** How often a long run logs its progress at info (default 10 s); a run's `now` is its clock. */
  progressLogEveryMs?: number;
}

export type RunTrigger = NonNullable<TaskRunSummary['trigger']>;

export interface RunRequest {
  task: Task;
  connector: Connector;
  /** The file that declares the connector (git-directory mode), for paths relative to it. */
  connectorFile?: string;
  runId: string;
  trigger: RunTrigger;
  plannedTime: Date;
  signal: AbortSignal;
  /** Called as counters move (throttled), and once at the end. */
  onProgress?: (run: TaskRunSummary) => void;
  now?: () => Date;
}
