/**
 * Where the CLI reads resources from: a running controller's API (--server), or a directory plus
 * state directory on disk (--dir / --state-dir) when no controller runs.
 */
import { resolve } from 'node:path';
import { request } from 'undici';
import { typeRules } from '../connectors/registry.js';
import { listViews, type ResourceView } from '../controller/status-view.js';
import { silentLogger } from '../log/logger.js';
import type { Kind } from '../model/resources.js';
import { GitDirSource } from '../sources/gitdir/git-dir-source.js';
import { FileLastGood } from '../state/last-good.js';
import { FileStatusStore } from '../state/status-store.js';
import { ResourceStore } from '../store/resource-store.js';

export interface SourceOptions {
  server?: string;
  dir?: string;
  stateDir: string;
  namespace?: string;
  allNamespaces?: boolean;
}

const PLURAL: Record<Kind, string> = { Connector: 'connectors', Task: 'tasks' };

export async function listResources(kind: Kind, opts: SourceOptions): Promise<ResourceView[]> {
  const ns = opts.allNamespaces ? undefined : opts.namespace;
  const server = opts.server ?? process.env.PROVISIO_SERVER;
  if (server) {
    const path = ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/${PLURAL[kind]}` : `/api/v1/${PLURAL[kind]}`;
    const body = (await apiCall('GET', server, path)) as { items: ResourceView[] };
    return body.items;
  }
  if (!opts.dir) throw new Error('give --dir PATH (the resource directory) or --server URL (a running controller)');
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

/** Finds one resource by NAME (in --namespace) or NAMESPACE/NAME. */
export async function findResource(kind: Kind, name: string, opts: SourceOptions): Promise<ResourceView> {
  const [ns, n] = name.includes('/') ? name.split('/', 2) : [opts.namespace, name];
  const all = await listResources(kind, { ...opts, allNamespaces: true });
  const matches = all.filter((r) => r.metadata.name === n && (!ns || r.metadata.namespace === ns));
  if (matches.length === 0) throw new Error(`${kind} "${name}" not found${ns ? ` in namespace "${ns}"` : ''}`);
  if (matches.length > 1) {
    throw new Error(
      `${kind} "${name}" exists in several namespaces (${matches.map((m) => m.metadata.namespace).join(', ')}): use -n`,
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
    throw new Error(`controller answered ${res.statusCode}: ${msg}`);
  }
  return body;
}
