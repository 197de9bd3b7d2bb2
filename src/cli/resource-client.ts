/**
 * Where the CLI reads resources from: a running controller's API (--server), or a directory plus
 * state directory on disk (--dir / --state-dir) when no controller runs.
 */
import { resolve } from 'node:path';
import { request } from 'undici';
import { typeRules } from '../connectors/registry.js';
import { listViews, type ResourceView } from '../controller/status-view.js';
import { silentLogger } from '../log/logger.js';
import { DEFAULT_NAMESPACE, type Kind } from '../model/resources.js';
import { GitDirSource } from '../sources/gitdir/git-dir-source.js';
import { FileLastGood } from '../state/last-good.js';
import { FileStatusStore } from '../state/status-store.js';
import { ResourceStore } from '../store/resource-store.js';
import { UsageError } from './errors.js';
import { parseSelector } from './selector.js';

export interface SourceOptions {
  server?: string;
  dir?: string;
  stateDir: string;
  namespace?: string;
  allNamespaces?: boolean;
  /** `-l`: a kubectl label selector. */
  selector?: string;
}

const PLURAL: Record<Kind, string> = { Connector: 'connectors', Task: 'tasks' };

/** A refusal or failure the controller answered (exit 1, as any failed operation). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one namespace rule of every verb (kubectl's, ADR 0009): the `default` namespace unless -n NS, every namespace
 * with -A; undefined means all.
 */
export function namespaceScope(opts: { namespace?: string; allNamespaces?: boolean }): string | undefined {
  return opts.allNamespaces ? undefined : (opts.namespace ?? DEFAULT_NAMESPACE);
}

/** `Task "x" not found in namespace "default"`, with the -n that finds it when it exists elsewhere. */
export function notFoundMessage(kind: Kind, name: string, ns: string, elsewhere: readonly string[]): string {
  const where = [...new Set(elsewhere)].filter((n) => n !== ns);
  const base = `${kind} "${name}" not found in namespace "${ns}"`;
  if (where.length === 0) return base;
  if (where.length === 1) return `${base}; it exists in namespace "${where[0]}": use -n ${where[0]}`;
  return `${base}; it exists in namespaces ${where.map((w) => `"${w}"`).join(', ')}: use -n NAMESPACE`;
}

export async function listResources(kind: Kind, opts: SourceOptions): Promise<ResourceView[]> {
  const all = await listUnfiltered(kind, opts);
  if (!opts.selector) return all;
  const matches = parseSelector(opts.selector);
  return all.filter((v) => matches(v.metadata.labels));
}

async function listUnfiltered(kind: Kind, opts: SourceOptions): Promise<ResourceView[]> {
  const ns = namespaceScope(opts);
  const server = opts.server ?? process.env.PROVISIO_SERVER;
  if (server) {
    const path = ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/${PLURAL[kind]}` : `/api/v1/${PLURAL[kind]}`;
    const body = (await apiCall('GET', server, path)) as { items: ResourceView[] };
    return body.items;
  }
  if (!opts.dir) {
    throw new UsageError('give --dir PATH (the resource directory) or --server URL (a running controller)');
  }
  // Read only: what a controller on this state dir would show, last good versions included.
  const lastGood = new FileLastGood(resolve(opts.stateDir), true);
  const store = new ResourceStore(lastGood);
  const source = new GitDirSource({
    dir: opts.dir,
    store,
    types: typeRules,
    log: silentLogger,
    lastGoodFiles: lastGood,
  });
  await source.load();
  return listViews(kind, store, new FileStatusStore(resolve(opts.stateDir)), ns);
}

/** Finds one resource by NAME (in the namespace of namespaceScope; with -A: the only one of that name) or NS/NAME. */
export async function findResource(kind: Kind, name: string, opts: SourceOptions): Promise<ResourceView> {
  const [ns, n] = name.includes('/') ? name.split('/', 2) : [namespaceScope(opts), name];
  const all = await listResources(kind, { ...opts, allNamespaces: true, selector: undefined });
  const named = all.filter((r) => r.metadata.name === n);
  const matches = named.filter((r) => !ns || r.metadata.namespace === ns);
  if (matches.length === 0) {
    throw new ApiError(
      404,
      ns
        ? notFoundMessage(
            kind,
            n,
            ns,
            named.map((r) => r.metadata.namespace),
          )
        : `${kind} "${n}" not found in any namespace`,
    );
  }
  if (matches.length > 1) {
    throw new ApiError(
      409,
      `${kind} "${n}" exists in several namespaces (${matches.map((m) => m.metadata.namespace).join(', ')}): use -n`,
    );
  }
  return matches[0];
}

/** Calls the controller API; errors carry the controller's message. */
export async function apiCall(method: 'GET' | 'POST', server: string, path: string): Promise<unknown> {
  const token = process.env.PROVISIO_API_TOKEN;
  const res = await request(new URL(path, server), {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    headersTimeout: 10_000,
    bodyTimeout: 30_000,
  }).catch((e: Error) => {
    throw new Error(`cannot reach the controller at ${server}: ${e.message}`);
  });
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (res.statusCode >= 400) {
    const msg = (body as { error?: string })?.error ?? text;
    const hint =
      res.statusCode === 401
        ? token
          ? ' (PROVISIO_API_TOKEN holds a token the controller does not accept)'
          : " (set PROVISIO_API_TOKEN to one of the controller's API tokens)"
        : '';
    throw new ApiError(res.statusCode, `controller answered ${res.statusCode}: ${msg}${hint}`);
  }
  return body;
}
