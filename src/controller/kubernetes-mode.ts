/**
 * The Kubernetes pieces of a runtime, assembled in one place and loaded only in Kubernetes mode (the client
 * library is large: git mode and the CLI should not pay for it). Source on informers, status subresource
 * writer, Secrets API resolver, run Events, and the leader Lease.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { typeRules } from '../connectors/registry.js';
import type { Logger } from '../log/logger.js';
import type { Task, TaskRunSummary } from '../model/resources.js';
import { KubernetesSecretResolver } from '../secrets/kubernetes-secret-resolver.js';
import type { SecretResolver } from '../secrets/resolver.js';
import { KubernetesSource } from '../sources/kubernetes/kubernetes-source.js';
import { KubernetesRunEvents } from '../state/kubernetes-events.js';
import { KubernetesStatusStore } from '../state/kubernetes-status-store.js';
import type { ResourceStore } from '../store/resource-store.js';
import { LeaderElector } from './leader-election.js';

export interface KubernetesModeOptions {
  kubeConfig: KubeConfig;
  namespaces: readonly string[];
  leaderElection?: { namespace: string; name: string; identity: string; leaseDurationSeconds?: number };
}

export interface KubernetesMode {
  source: KubernetesSource;
  statuses: KubernetesStatusStore;
  secrets: SecretResolver;
  runStarted(task: Task, runId: string, trigger: string): void;
  runFinished(task: Task, run: TaskRunSummary): void;
  /**
   * Calls `lead` once this replica holds the Lease (at once without leader election) and `lost` if it
   * stops holding it. Answers the elector, if any.
   */
  elect(lead: () => void, lost: () => void): LeaderElector | undefined;
  /** Stops competing for the Lease (releasing it) and stops the informers. */
  close(): Promise<void>;
  /** Waits for run Events still being written. */
  flushEvents(): Promise<void>;
}

export function openKubernetesMode(
  opts: KubernetesModeOptions,
  store: ResourceStore,
  log: Logger,
  secretsOverride?: SecretResolver,
): KubernetesMode {
  const { kubeConfig, namespaces, leaderElection } = opts;
  const secrets = secretsOverride ?? new KubernetesSecretResolver(kubeConfig);
  const source = new KubernetesSource({ kubeConfig, namespaces, store, types: typeRules, secrets, log });
  const statuses = new KubernetesStatusStore({ kubeConfig, objects: source, log });
  const events = new KubernetesRunEvents({ kubeConfig, objects: source, log });
  let elector: LeaderElector | undefined;
  return {
    source,
    statuses,
    secrets,
    runStarted: (task, runId, trigger) => events.started(task, runId, trigger),
    runFinished: (task, run) => events.finished(task, run),
    elect(lead, lost) {
      if (!leaderElection) {
        lead();
        return undefined;
      }
      // An elector leads at most once: after losing the Lease it stops competing (the process restarts).
      elector = new LeaderElector({
        kubeConfig,
        ...leaderElection,
        log,
        onStartedLeading: lead,
        onStoppedLeading: lost,
      });
      elector.start();
      return elector;
    },
    async close() {
      await elector?.stop();
      await source.close();
    },
    flushEvents: () => events.flush(),
  };
}
