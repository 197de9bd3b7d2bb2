/**
 * Where status lives in git mode (the embedded default): one JSON file per resource in the state
 * directory, written atomically, so status and run history survive restarts and `provisio get`
 * can read them without a running controller. Kubernetes mode writes the status subresource instead.
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

export class StatusStore {
  constructor(readonly dir: string) {}

  private file(kind: Kind, key: string): string {
    const [ns, name] = key.split('/');
    return join(this.dir, 'resources', kind, ns, `${name}.json`);
  }

  read<S>(kind: Kind, key: string): StatusRecord<S> | undefined {
    const f = this.file(kind, key);
    if (!existsSync(f)) return undefined;
    return JSON.parse(readFileSync(f, 'utf8')) as StatusRecord<S>;
  }

  write<S>(kind: Kind, key: string, record: StatusRecord<S>): void {
    writeFileAtomic(this.file(kind, key), `${JSON.stringify(record, null, 2)}\n`);
  }

  delete(kind: Kind, key: string): void {
    rmSync(this.file(kind, key), { force: true });
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
