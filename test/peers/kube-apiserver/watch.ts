/**
 * Watch streams as kube-apiserver serves them: `200` with headers flushed at once, then one JSON line per event
 * (`{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}`). Without a resourceVersion (or with "0") the
 * current objects come first as ADDED; with one, the changes after it are replayed from the store's history, or,
 * when it is older than the history, one ERROR event carrying a 410 Expired Status ends the stream (that is what
 * the watch cache does). Selector transitions are reported as the real server does (an object that stops matching
 * arrives as DELETED). Bookmarks (allowWatchBookmarks), timeoutSeconds, sendInitialEvents, and test controls to
 * drop every open watch (cleanly or by resetting the connection) are here too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from './json.js';
import type { ListQuery, Registry } from './registry.js';
import type { ResourceType } from './resources.js';
import { errors, failure, type Status } from './status.js';
import type { Change } from './store.js';

export interface WatchRequest {
  type: ResourceType;
  namespace?: string;
  query: ListQuery;
  resourceVersion?: string;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
}

export interface WatchHubOptions {
  bookmarkIntervalMs: number;
  /** Used when the client gives no timeoutSeconds (the real server picks 30-60 minutes). */
  defaultTimeoutSeconds: number;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

interface OpenWatch {
  request: WatchRequest;
  res: ServerResponse;
  req: IncomingMessage;
  close(abrupt: boolean): void;
  bookmark(): void;
}

export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly registry: Registry,
    private readonly options: WatchHubOptions,
  ) {}

  get count(): number {
    return this.open.size;
  }

  /** Open watches, for tests that wait for a client to (re)connect. */
  describe(): { path: string; resourceVersion?: string }[] {
    return [...this.open].map((w) => ({ path: w.req.url ?? '', resourceVersion: w.request.resourceVersion }));
  }

  /**
   * Serves one watch. Selector errors throw before anything is written (the caller answers them as a Status);
   * after that the stream belongs to the hub.
   */
  serve(req: IncomingMessage, res: ServerResponse, w: WatchRequest): void {
    const { registry } = this;
    const store = registry.store;
    const match = registry.matcher(w.type, w.namespace, w.query);
    const rv = w.resourceVersion;
    if (rv && rv !== '0' && !/^\d+$/.test(rv)) {
      throw errors.badRequest(
        `resourceVersion: Invalid value: "${rv}": strconv.ParseUint: parsing "${rv}": invalid syntax`,
      );
    }
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();

    const send = (type: EventType, object: KubeObject | Status) => {
      if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const bookmarkObject = (annotations?: Record<string, string>): KubeObject => ({
      kind: w.type.kind,
      apiVersion: w.type.apiVersion,
      metadata: { resourceVersion: String(store.resourceVersion), ...(annotations ? { annotations } : {}) },
    });
    const toEvent = (c: Change): [EventType, KubeObject] | undefined => {
      const cur = registry.external(w.type, c.object);
      const curMatch = match(cur);
      const prevMatch = c.prev ? match(registry.external(w.type, c.prev)) : false;
      if (c.type === 'ADDED') return curMatch ? ['ADDED', cur] : undefined;
      if (c.type === 'DELETED') return prevMatch || curMatch ? ['DELETED', cur] : undefined;
      if (curMatch && prevMatch) return ['MODIFIED', cur];
      if (curMatch) return ['ADDED', cur];
      if (prevMatch) return ['DELETED', cur];
      return undefined;
    };

    let unsubscribe = () => {};
    let timer: NodeJS.Timeout | undefined;
    let bookmarks: NodeJS.Timeout | undefined;
    const entry: OpenWatch = {
      request: w,
      res,
      req,
      close: (abrupt) => {
        cleanup();
        if (abrupt) res.socket?.destroy();
        else if (!res.writableEnded) res.end();
      },
      bookmark: () => {
        if (w.allowBookmarks) send('BOOKMARK', bookmarkObject());
      },
    };
    const cleanup = () => {
      unsubscribe();
      clearTimeout(timer);
      clearInterval(bookmarks);
      this.open.delete(entry);
    };
    const end = () => {
      cleanup();
      if (!res.writableEnded) res.end();
    };

    if (!rv || rv === '0' || w.sendInitialEvents) {
      for (const o of registry.list(w.type, w.namespace, {}).items as KubeObject[]) {
        const full = { ...o, apiVersion: w.type.apiVersion, kind: w.type.kind };
        if (match(full)) send('ADDED', full);
      }
      if (w.sendInitialEvents && w.allowBookmarks) {
        send('BOOKMARK', bookmarkObject({ 'k8s.io/initial-events-end': 'true' }));
      }
    } else {
      const from = Number(rv);
      if (from > store.resourceVersion) {
        send(
          'ERROR',
          failure(504, 'Timeout', `Timeout: Too large resource version: ${from}, current: ${store.resourceVersion}`, {
            causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
            retryAfterSeconds: 1,
          }),
        );
        end();
        return;
      }
      const changes = store.changesSince(w.type.storage, from);
      if (!changes) {
        send('ERROR', failure(410, 'Expired', `too old resource version: ${from} (${store.oldestResourceVersion})`));
        end();
        return;
      }
      for (const c of changes) {
        const e = toEvent(c);
        if (e) send(e[0], e[1]);
      }
    }

    unsubscribe = store.subscribe((c) => {
      if (c.storage !== w.type.storage) return;
      const e = toEvent(c);
      if (e) send(e[0], e[1]);
    });
    this.open.add(entry);
    const timeout = w.timeoutSeconds ?? this.options.defaultTimeoutSeconds;
    timer = setTimeout(() => {
      entry.bookmark();
      end();
    }, timeout * 1000);
    if (w.allowBookmarks) bookmarks = setInterval(() => entry.bookmark(), this.options.bookmarkIntervalMs);
    // The response's 'close' means the stream ended or the client went away.
    res.on('close', cleanup);
  }

  /** Ends every open watch: cleanly (the client sees the stream end) or by destroying the connection. */
  closeAll(abrupt = false): number {
    const all = [...this.open];
    for (const w of all) w.close(abrupt);
    return all.length;
  }

  /** Sends a BOOKMARK now on every watch that allows them. */
  bookmarkAll(): void {
    for (const w of this.open) w.bookmark();
  }
}
