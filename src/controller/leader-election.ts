/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: the holder renews
 * `spec.renewTime` every retry period; another replica takes over only when it has seen the same lease record
 * unchanged for a whole `leaseDurationSeconds` (measured on its own clock, so clock skew between nodes does
 * not matter); every write carries the resourceVersion read, so two candidates can never both win (409).
 * A leader that cannot renew within the renew deadline stops leading at once, before anyone else may take
 * over (renew deadline < lease duration).
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { apiErrorCode } from '../kube/custom-resources.js';
import type { Logger } from '../log/logger.js';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retryPeriod: number;
  private leading = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** The lease record last seen and when (local clock): the basis for deciding it expired. */
  private observed?: { record: string; at: number };
  private lastRenew = 0;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.duration = (opts.leaseDurationSeconds ?? 15) * 1000;
    // client-go's proportions by default (15 s lease: renew within 10 s, retry every 2 s).
    this.renewDeadline = (opts.renewDeadlineSeconds ?? 0) * 1000 || (this.duration * 2) / 3;
    this.retryPeriod = (opts.retryPeriodSeconds ?? 0) * 1000 || (this.duration * 2) / 15;
    if (this.renewDeadline >= this.duration) throw new Error('the renew deadline must be shorter than the lease');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops competing; a leader releases the lease so another replica takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.leading) {
      // A deliberate stop (shutdown) is not a lost lease: onStoppedLeading is for losing it.
      this.leading = false;
      await this.release().catch(() => {});
      this.opts.log.info({ lease: this.leaseName }, 'released the leader lease');
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) this.lastRenew = Date.now();
      if (ok && !this.leading) this.setLeading(true);
    } catch (e) {
      this.opts.log.warn({ lease: this.leaseName, err: (e as Error).message }, 'leader election: lease request failed');
    }
    if (this.leading && Date.now() - this.lastRenew > this.renewDeadline) {
      this.opts.log.warn({ lease: this.leaseName }, 'could not renew the leader lease in time: stopping scheduling');
      // As client-go's Run: an elector that lost the lease is done (the process restarts as a fresh standby).
      this.stopped = true;
      this.setLeading(false);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.retryPeriod);
  }

  private get leaseName(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.opts.log.info(
      { lease: this.leaseName, identity: this.opts.identity },
      leading ? 'became the scheduling leader' : 'no longer the scheduling leader',
    );
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  /** One round of client-go's tryAcquireOrRenew; true when this replica holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (apiErrorCode(e) !== 404) throw e;
      return this.write(() =>
        this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: this.spec(now, now, 0),
          },
        }),
      );
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify(spec);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const mine = spec.holderIdentity === identity;
    const held = !!spec.holderIdentity;
    const duration = (spec.leaseDurationSeconds ?? this.duration / 1000) * 1000;
    if (held && !mine && Date.now() < this.observed.at + duration) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const acquired = mine && spec.acquireTime ? new Date(spec.acquireTime) : now;
    return this.write(() =>
      this.api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: this.spec(acquired, now, transitions) },
      }),
    );
  }

  private spec(acquireTime: Date, renewTime: Date, leaseTransitions: number): V1Lease['spec'] {
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.duration / 1000,
      acquireTime: microTime(acquireTime),
      renewTime: microTime(renewTime),
      leaseTransitions,
    };
  }

  /** A write that another candidate may win (409): losing the race is not an error. */
  private async write(send: () => Promise<V1Lease>): Promise<boolean> {
    try {
      const lease = await send();
      this.observed = { record: JSON.stringify(lease.spec ?? {}), at: Date.now() };
      return true;
    } catch (e) {
      if (apiErrorCode(e) === 409) return false;
      throw e;
    }
  }

  /** Gives the lease up (holder cleared, duration 1 s) so a standby takes over at its next retry. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    await this.api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
      },
    });
  }
}

/**
 * A MicroTime as the API server parses it (RFC 3339 with exactly six fractional digits): a plain Date would be
 * sent with milliseconds, which the server refuses (400).
 */
const microTime = (d: Date): Date => new V1MicroTime(d);
