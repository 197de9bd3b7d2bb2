/**
 * The session lifecycle of a connector type's event calls. A session (secret values read, a TLS dispatcher, a
 * login's token) is expensive to make, so it is cached per connector (namespace/name) and shared by concurrent
 * calls, each holding a lease. A session is retired, and closed once its last lease is released, when:
 * - the connector's spec changes (the next lease sees another spec hash and opens a new session);
 * - `evict(namespace, name)` is called: ConnectorType.evictSessions, when a secret or the connector changed;
 * - a call finds its credentials refused or its TLS failing (`lease.evict()`), so that the next call re-reads
 *   rotated secrets and CAs.
 * A session that failed to open is not cached: the next call tries again.
 */
import { createHash } from 'node:crypto';
import type { Connector } from '../../model/resources.js';

/** A lease on a connector's session; call release() when the call is over. */
export interface SessionLease<S> {
  session: S;
  release(): void;
  /** Drops the session from the cache; it closes when its calls are done. */
  evict(): void;
}

interface Entry<S> {
  key: string;
  hash: string;
  session: Promise<S>;
  /** Calls using the session right now; a retired session closes when this drops to zero. */
  users: number;
  retired: boolean;
  closed?: Promise<void>;
}

export interface SessionSourceBase {
  connector: Connector;
  namespace: string;
}

export class SessionCache<Source extends SessionSourceBase, S> {
  private readonly entries = new Map<string, Entry<S>>();
  private readonly hashes = new WeakMap<object, string>();

  constructor(
    private readonly open: (source: Source) => Promise<S>,
    private readonly closeSession: (session: S) => Promise<void>,
  ) {}

  async lease(source: Source): Promise<SessionLease<S>> {
    const key = `${source.namespace}/${source.connector.metadata.name}`;
    const hash = this.specHash(source.connector);
    let entry = this.entries.get(key);
    if (entry && entry.hash !== hash) {
      this.retire(entry);
      entry = undefined;
    }
    if (!entry) {
      const created: Entry<S> = { key, hash, session: this.open(source), users: 0, retired: false };
      created.session.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      this.entries.set(key, created);
      entry = created;
    }
    const leased = entry;
    leased.users++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      leased.users--;
      if (leased.retired && leased.users === 0) void this.close(leased);
    };
    try {
      const session = await leased.session;
      return { session, release, evict: () => this.retire(leased) };
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Drops the cached session of one connector; calls in flight finish on it. */
  evict(namespace: string, name: string): void {
    const entry = this.entries.get(`${namespace}/${name}`);
    if (entry) this.retire(entry);
  }

  /** Closes every cached session (shutdown, tests); calls in flight finish first. */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    for (const entry of all) this.retire(entry);
    await Promise.all(all.map((e) => (e.users === 0 ? this.close(e) : Promise.resolve())));
  }

  /** Hash of the connector's spec, memoized per spec object (the store hands out the same object until it changes). */
  private specHash(connector: Connector): string {
    let hash = this.hashes.get(connector.spec);
    if (hash === undefined) {
      hash = createHash('sha256').update(JSON.stringify(connector.spec)).digest('hex');
      this.hashes.set(connector.spec, hash);
    }
    return hash;
  }

  private retire(entry: Entry<S>): void {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    entry.retired = true;
    if (entry.users === 0) void this.close(entry);
  }

  private close(entry: Entry<S>): Promise<void> {
    entry.closed ??= entry.session.then(
      (s) => this.closeSession(s).catch(() => {}),
      () => {},
    );
    return entry.closed;
  }
}
