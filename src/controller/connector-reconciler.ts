/**
 * The Connector reconciler: counts and health from its tasks' runs, conditions, and the connection check
 * of its type (status.connection, also `provisio test-connection`). It also owns the connector's session
 * lifecycle: what its type keeps between calls (event-call sessions, tokens) is dropped when the connector
 * changes or goes away, or when a secret it references changes (seen by the periodic connection check).
 */
import { createHash } from 'node:crypto';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { ConnectionCheck } from '../connectors/types.js';
import type { Logger } from '../log/logger.js';
import { REASONS, setConditions } from '../model/conditions.js';
import type { Connector, ConnectorStatus, Task } from '../model/resources.js';
import { keyOf, namespaceOf } from '../model/resources.js';
import { SecretNotFoundError, type SecretResolver } from '../secrets/resolver.js';
import type { StatusStore } from '../state/status-store.js';
import { declaredFile, type ResourceStore, type StoredResource } from '../store/resource-store.js';
import { runConnectionCheck } from './connection-check.js';
import { type ConnectorFindings, connectorConditions, connectorHealth, lastTellingRun } from './connector-status.js';
import type { ResourceLookup } from './resource-lookup.js';
import { recordApplied, type StatusRecords } from './status-records.js';

export interface ConnectorReconcilerOptions {
  store: ResourceStore;
  statuses: StatusStore;
  records: StatusRecords;
  lookup: ResourceLookup;
  types: ConnectorRegistry;
  secrets: SecretResolver;
  log: Logger;
  now: () => Date;
  /** Whether to run connection checks (off for `--once` and most tests: a check calls the system). */
  checkConnections: boolean;
}

export class ConnectorReconciler {
  /** Per connector: what its sessions were built from (spec and secret values, hashed). */
  private readonly fingerprints = new Map<string, string>();
  private readonly checking = new Map<string, Promise<void>>();
  /** The last valid version of each connector, to drop its sessions when it goes away. */
  private readonly applied = new Map<string, Connector>();
  /** Per connector: the message of a referenced secret that cannot be resolved. */
  private readonly missingSecrets = new Map<string, string>();
  private readonly secretChecks = new Map<string, Promise<void>>();

  constructor(private readonly o: ConnectorReconcilerOptions) {}

  reconcile(key: string): void {
    const stored = this.o.store.get<Connector>('Connector', key);
    if (!stored) return;
    const rec = this.o.records.next<ConnectorStatus>('Connector', stored);
    const status = rec.status;
    const findings = this.findings(key, status);
    const health = connectorHealth((findings.lastRuns ?? []).map((r) => r.run));
    recordApplied(status, rec.generation, stored);
    status.health = health;
    status.scheduledTasks = findings.lastRuns?.length ?? 0;
    status.eventTasks = findings.eventTasks ?? 0;
    status.conditions = setConditions(
      status.conditions,
      connectorConditions(stored, health, status.observedGeneration, findings),
      rec.generation,
      this.o.now(),
    );
    this.o.statuses.write('Connector', key, rec);
    if (!stored.effective) return;
    this.checkSecrets(key, stored.effective);
    const before = this.applied.get(key);
    // Compared by spec: git mode applies every resource again at each commit, and a connector is reconciled
    // after every run of its tasks; most of these change nothing.
    const changed = !before || JSON.stringify(before.spec) !== JSON.stringify(stored.effective.spec);
    if (before && changed) this.evict(before);
    this.applied.set(key, stored.effective);
    // A new or changed connector is checked now; secrets are looked at again by the periodic pass (refreshAll).
    if (changed && this.o.checkConnections) this.refreshInBackground(key);
  }

  /** What the connector's Ready summarizes: its tasks' last runs, tasks that cannot run, secrets, connection. */
  private findings(key: string, status: ConnectorStatus): ConnectorFindings {
    const tasks = this.o.lookup.tasksOf(key);
    const usage = (t: StoredResource<Task>) => (t.effective ?? t.declared).spec?.usage;
    const scheduled = tasks.filter((t) => usage(t) === 'scheduled');
    const lastRuns = scheduled.map((t) => {
      const s = this.o.records.peekTask(t.key)?.status;
      return { task: t.declared.metadata.name, run: lastTellingRun([s?.lastRun, ...(s?.history ?? [])]) };
    });
    const blocked = scheduled
      .map((t) => ({ name: t.declared.metadata.name, blocker: this.o.lookup.blocker(t) }))
      .filter((b) => b.blocker?.reason === REASONS.UnsupportedConnector);
    return {
      missingSecret: this.missingSecrets.get(key),
      unsupported:
        blocked.length > 0 ? { tasks: blocked.map((b) => b.name), message: blocked[0].blocker!.message } : undefined,
      connection: status.connection,
      lastRuns,
      eventTasks: tasks.filter((t) => usage(t) === 'event').length,
    };
  }

  /**
   * Resolves the connector's secret references in the background; when what is missing changed, the connector
   * is reconciled again, so that Ready says SecretNotFound (or no longer does).
   */
  private checkSecrets(key: string, connector: Connector): void {
    if (this.secretChecks.has(key)) return;
    const job = this.firstMissingSecret(connector)
      .then((missing) => {
        if (this.o.store.get<Connector>('Connector', key)?.effective !== connector) return;
        if (this.missingSecrets.get(key) === missing) return;
        if (missing) {
          this.missingSecrets.set(key, missing);
          this.o.log.warn({ connector: key, reason: REASONS.SecretNotFound }, `Connector ${key}: ${missing}`);
        } else this.missingSecrets.delete(key);
        this.reconcile(key);
      })
      .catch((e: unknown) => this.logCheckError(key, e))
      .finally(() => this.secretChecks.delete(key));
    this.secretChecks.set(key, job);
  }

  /** The resolver's message for the first referenced secret that does not exist (it names where it looked). */
  private async firstMissingSecret(connector: Connector): Promise<string | undefined> {
    const type = this.o.types.get(connector.spec.type);
    for (const { ref } of type.secretRefs(connector)) {
      if (typeof ref.name !== 'string') continue;
      try {
        await this.o.secrets.get(namespaceOf(connector), ref.name);
      } catch (e) {
        // Only a secret known to be absent; one that cannot be read now (forbidden, unreachable) is the run's to say.
        if (e instanceof SecretNotFoundError) return e.message;
      }
    }
    return undefined;
  }

  removed(key: string): void {
    this.o.statuses.delete('Connector', key);
    this.fingerprints.delete(key);
    this.missingSecrets.delete(key);
    const connector = this.applied.get(key);
    this.applied.delete(key);
    if (connector) this.evict(connector);
  }

  /**
   * Checks the connection again when the connector or one of its secrets changed since the last check
   * (or `force`), dropping the type's sessions first; answers when the check is written to status.
   */
  refresh(key: string, force = false): Promise<void> {
    // One check at a time per connector; one asked for meanwhile runs after it (its version may be newer).
    const previous = this.checking.get(key) ?? Promise.resolve();
    const job: Promise<void> = previous
      .catch(() => {})
      .then(() => this.refreshNow(key, force))
      .finally(() => {
        if (this.checking.get(key) === job) this.checking.delete(key);
      });
    this.checking.set(key, job);
    return job;
  }

  /** A check nobody waits for: its failure is logged, never an unhandled rejection. */
  refreshInBackground(key: string, force = false): void {
    this.refresh(key, force).catch((e: unknown) => this.logCheckError(key, e));
  }

  /**
   * The periodic pass: every valid connector, so that a rotated secret is noticed; a connector whose last
   * check failed is checked again whether or not anything changed.
   */
  async refreshAll(): Promise<void> {
    const valid = this.o.store.list<Connector>('Connector').filter((c) => c.effective);
    // A secret created or removed since is noticed here too (Ready: SecretNotFound).
    for (const c of valid) this.checkSecrets(c.key, c.effective!);
    await Promise.all(
      valid.map((c) => {
        const last = this.o.statuses.peek<ConnectorStatus>('Connector', c.key)?.status.connection;
        return this.refresh(c.key, last?.ok === false).catch((e: unknown) => this.logCheckError(c.key, e));
      }),
    );
  }

  /** Waits for the checks under way (before the status store closes). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.checking.values(), ...this.secretChecks.values()]);
  }

  private logCheckError(key: string, e: unknown): void {
    this.o.log.error(
      { connector: key, err: (e as Error).message },
      `connection check of Connector ${key} could not run`,
    );
  }

  /** The type's connection check, bounded in time; never throws. */
  check(connector: Connector): Promise<ConnectionCheck> {
    const file = declaredFile(this.o.store.get<Connector>('Connector', keyOf(connector)));
    return runConnectionCheck(this.o.types, connector, this.o.secrets, this.o.log, file);
  }

  private async refreshNow(key: string, force: boolean): Promise<void> {
    const connector = this.o.store.get<Connector>('Connector', key)?.effective;
    if (!connector) return;
    const fingerprint = await this.fingerprint(connector);
    const previous = this.fingerprints.get(key);
    if (!force && previous === fingerprint) return;
    // A secret changed under an unchanged connector (a spec change already dropped the sessions).
    if (previous !== undefined && previous !== fingerprint) this.evict(connector);
    this.fingerprints.set(key, fingerprint);
    const result = await this.check(connector);
    const rec = this.o.statuses.read<ConnectorStatus>('Connector', key);
    if (!rec || this.o.store.get<Connector>('Connector', key)?.effective !== connector) return;
    rec.status.connection = { checkedAt: this.o.now().toISOString(), ok: result.ok, message: result.message };
    this.o.statuses.write('Connector', key, rec);
    // Ready summarizes the check too.
    this.reconcile(key);
    const log = result.ok ? this.o.log.info.bind(this.o.log) : this.o.log.warn.bind(this.o.log);
    log({ connector: key, ok: result.ok }, `connection check of Connector ${key}: ${result.message}`);
  }

  private evict(connector: Connector): void {
    const type = this.o.types.get(connector.spec.type);
    type.evictSessions?.(namespaceOf(connector), connector.metadata.name);
    this.o.log.debug({ connector: connector.metadata.name }, 'connector sessions dropped');
  }

  /** Spec and secret values, hashed: never kept or logged in the clear. */
  private async fingerprint(connector: Connector): Promise<string> {
    const hash = createHash('sha256').update(JSON.stringify(connector.spec));
    const type = this.o.types.get(connector.spec.type);
    for (const { ref } of type.secretRefs(connector)) {
      if (typeof ref.name !== 'string') continue;
      try {
        hash.update(JSON.stringify(await this.o.secrets.get(namespaceOf(connector), ref.name)));
      } catch {
        hash.update(`missing:${ref.name}`);
      }
    }
    return hash.digest('base64url');
  }
}
