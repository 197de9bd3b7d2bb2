/**
 * Where status lives in git mode (the embedded default): one JSON file per resource in the state
 * directory, written atomically, so status and run history survive restarts and `provisio get`
 * can read them without a running controller. Kubernetes mode writes the status subresource instead.
 *
 * Only the controller writes these files, so each store keeps what it read or wrote in memory: hot paths
 * (every event invocation asks whether its task is suspended) must not touch the disk.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Kind } from '../model/resources.js';
import { writeFileAtomic } from './atomic-file.js';

export interface StatusRecord<S = Record<string, unknown>> {
  status: S;
  /** Git mode has no API server: generation counts spec changes, kept across restarts. */
  generation: number;
  specHash?: string;
  /** Set by `provisio suspend` / `resume` in git mode; spec.suspend: true in git always wins. */
  suspendOverride?: boolean;
}

interface Cached {
  /** The file's text; undefined when there is no file. */
  text: string | undefined;
  /** Parsed on first peek. */
  parsed?: StatusRecord<unknown>;
}

/** Status and run records by kind and namespace/name: files in git mode, the status subresource in Kubernetes. */
export interface StatusStore {
  /** A copy of the record, free to change and write back. */
  read<S>(kind: Kind, key: string): StatusRecord<S> | undefined;
  /** The record itself, shared: for reading only (no copy, so cheap enough for every request). */
  peek<S>(kind: Kind, key: string): Readonly<StatusRecord<S>> | undefined;
  write<S>(kind: Kind, key: string, record: StatusRecord<S>): void;
  delete(kind: Kind, key: string): void;
  /** Every stored key of a kind (namespace/name). */
  keys(kind: Kind): string[];
}

export class FileStatusStore implements StatusStore {
  private readonly cache = new Map<string, Cached>();

  constructor(readonly dir: string) {}

  private file(kind: Kind, key: string): string {
    const [ns, name] = key.split('/');
    return join(this.dir, 'resources', kind, ns, `${name}.json`);
  }

  private cached(kind: Kind, key: string): Cached {
    const id = `${kind}/${key}`;
    let entry = this.cache.get(id);
    if (!entry) {
      const f = this.file(kind, key);
      entry = { text: existsSync(f) ? readFileSync(f, 'utf8') : undefined };
      this.cache.set(id, entry);
    }
    return entry;
  }

  /** A copy of the record, free to change and write back. */
  read<S>(kind: Kind, key: string): StatusRecord<S> | undefined {
    const { text } = this.cached(kind, key);
    return text === undefined ? undefined : (JSON.parse(text) as StatusRecord<S>);
  }

  /** The record itself, shared: for reading only (no copy, so cheap enough for every request). */
  peek<S>(kind: Kind, key: string): Readonly<StatusRecord<S>> | undefined {
    const entry = this.cached(kind, key);
    if (entry.text === undefined) return undefined;
    entry.parsed ??= JSON.parse(entry.text) as StatusRecord<unknown>;
    return entry.parsed as StatusRecord<S>;
  }

  write<S>(kind: Kind, key: string, record: StatusRecord<S>): void {
    const text = `${JSON.stringify(record, null, 2)}\n`;
    writeFileAtomic(this.file(kind, key), text);
    this.cache.set(`${kind}/${key}`, { text });
  }

  delete(kind: Kind, key: string): void {
    rmSync(this.file(kind, key), { force: true });
    this.cache.set(`${kind}/${key}`, { text: undefined });
  }

  /** Every stored key of a kind (namespace/name). */
  keys(kind: Kind): string[] {
    const root = join(this.dir, 'resources', kind);
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((ns) =>
      readdirSync(join(root, ns))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${ns}/${f.slice(0, -'.json'.length)}`),
    );
  }
}
