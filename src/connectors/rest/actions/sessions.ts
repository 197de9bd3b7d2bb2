/**
 * Connector sessions for event calls, cached across invocations. Creating one reads secrets (possibly from
 * disk), builds a TLS dispatcher and, for dynamicToken, logs in on first use; doing that per call would cost a
 * login per invocation and a new connection pool each time. A session is keyed by namespace/name and a hash
 * of the connector's spec: a changed spec gets a new session, and the old one is closed once its last call
 * has finished. A session is also dropped after a 401 or a TLS failure, so that the next invocation re-reads
 * rotated secrets and CAs.
 */
import { createHash } from 'node:crypto';
import type { Agent } from 'undici';
import type { RestConnector } from '../../../generated/types.js';
import type { Logger } from '../../../log/logger.js';
import type { Connector } from '../../../model/resources.js';
import type { SecretResolver } from '../../../secrets/resolver.js';
import type { HttpClient, RetryOptions } from '../../../transport/http-client.js';
import { SecretScrubber } from '../../../transport/scrub.js';
import { createDispatcher } from '../../../transport/tls.js';
import type { Authenticator } from '../auth.js';
import { restBlock } from '../config.js';
import { authenticatedHttp } from '../session.js';

/** Logins of event sessions: a few quick attempts, since callers are waiting. */
const LOGIN_RETRY: RetryOptions = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000, maxRetryAfterMs: 5_000 };

export interface ActionSession {
  rest: RestConnector;
  dispatcher: Agent;
  /** The connector's HTTP client: logins use its retry policy, calls their own (RESET_ONCE). */
  http: HttpClient;
  auth: Authenticator;
  scrubber: SecretScrubber;
}

interface Entry {
  key: string;
  hash: string;
  session: Promise<ActionSession>;
  /** Calls using the session right now; a retired session closes when this drops to zero. */
  users: number;
  retired: boolean;
  closed?: Promise<void>;
}

export interface SessionSource {
  connector: Connector;
  namespace: string;
  secrets: SecretResolver;
  /** Logs of the session itself (logins, their retries): those of the invocation that created it. */
  log: Logger;
}

const entries = new Map<string, Entry>();
const hashes = new WeakMap<object, string>();

/** Hash of the connector's spec, memoized per spec object (the store hands out the same object until it changes). */
function specHash(connector: Connector): string {
  let hash = hashes.get(connector.spec);
  if (hash === undefined) {
    hash = createHash('sha256').update(JSON.stringify(connector.spec)).digest('hex');
    hashes.set(connector.spec, hash);
  }
  return hash;
}

/** A lease on the connector's session; call release() when the call is over. */
export interface SessionLease {
  session: ActionSession;
  release(): void;
  /** Drops the session from the cache (after a 401 or TLS failure); it closes when its calls are done. */
  evict(): void;
}

export async function leaseSession(source: SessionSource): Promise<SessionLease> {
  const key = `${source.namespace}/${source.connector.metadata.name}`;
  const hash = specHash(source.connector);
  let entry = entries.get(key);
  if (entry && entry.hash !== hash) {
    retire(entry);
    entry = undefined;
  }
  if (!entry) {
    const created: Entry = { key, hash, session: openSession(source), users: 0, retired: false };
    // A failed creation (missing secret, bad CA) is not cached: the next call tries again.
    created.session.catch(() => {
      if (entries.get(key) === created) entries.delete(key);
    });
    entries.set(key, created);
    entry = created;
  }
  const leased = entry;
  leased.users++;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    leased.users--;
    if (leased.retired && leased.users === 0) close(leased);
  };
  try {
    const session = await leased.session;
    return { session, release, evict: () => retire(leased) };
  } catch (e) {
    release();
    throw e;
  }
}

function retire(entry: Entry): void {
  if (entries.get(entry.key) === entry) entries.delete(entry.key);
  entry.retired = true;
  if (entry.users === 0) close(entry);
}

function close(entry: Entry): Promise<void> {
  entry.closed ??= entry.session.then(
    (s) => s.dispatcher.close().catch(() => {}),
    () => {},
  );
  return entry.closed;
}

/** Closes every cached session (shutdown, tests); calls in flight finish first. */
export async function closeActionSessions(): Promise<void> {
  const all = [...entries.values()];
  for (const entry of all) retire(entry);
  await Promise.all(all.map((e) => (e.users === 0 ? close(e) : Promise.resolve())));
}

/** Drops the cached session of one connector, e.g. when one of its secrets changed. */
export function evictActionSession(namespace: string, name: string): void {
  const entry = entries.get(`${namespace}/${name}`);
  if (entry) retire(entry);
}

async function openSession(source: SessionSource): Promise<ActionSession> {
  const rest = restBlock(source.connector);
  const scrubber = new SecretScrubber();
  const dispatcher = await createDispatcher(rest, source.secrets, source.namespace);
  try {
    // Logins are shared by concurrent calls, so no single caller's signal may cancel them; each caller stops
    // waiting on its own deadline instead. The signal is never aborted: closing the dispatcher ends everything.
    const { http, auth } = await authenticatedHttp(rest, source, {
      dispatcher,
      signal: new AbortController().signal,
      retry: LOGIN_RETRY,
      scrubber,
    });
    return { rest, dispatcher, http, auth, scrubber };
  } catch (e) {
    await dispatcher.destroy().catch(() => {});
    throw e;
  }
}
