/**
 * The last good versions, kept in the state directory across restarts (DESIGN §4: "store ... last-good
 * versions kept across restarts"). Two ports with one file adapter:
 * - LastGoodVersions: the last valid version of each resource, so that a resource whose new version is
 *   invalid keeps running after a restart too;
 * - LastGoodFiles: the text of each resource file as it last parsed, so that a file that no longer parses
 *   still declares, after a restart, the resources it declared.
 * Resources and files hold no secrets (DESIGN §1: secrets are never inline), so they are kept as they are.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Connector, Kind, Task } from '../model/resources.js';
import { writeFileAtomic } from './atomic-file.js';

export interface LastGoodVersion {
  resource: Connector | Task;
  /** Source revision it came from (git commit). */
  revision?: string;
  /** metadata.generation of the API server, when it came from one. */
  generation?: number;
  /** When it was the latest valid version. */
  savedAt: string;
}

export interface LastGoodVersions {
  get(kind: Kind, key: string): LastGoodVersion | undefined;
  put(kind: Kind, key: string, version: LastGoodVersion): void;
  remove(kind: Kind, key: string): void;
  /**
   * Forgets every kept version but these, after the source's first full read: a resource deleted while the
   * controller was down must not come back as the "last good" version of a new one of the same name.
   */
  retainOnly(present: ReadonlyArray<{ kind: Kind; key: string }>): void;
}

export interface LastGoodFiles {
  fileText(file: string): string | undefined;
  keepFileText(file: string, text: string): void;
  forgetFile(file: string): void;
  /** Forgets the kept text of every file but these (files deleted while the controller was down). */
  retainFiles(files: readonly string[]): void;
}

const safeName = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** Both ports as JSON and text files under `<state-dir>/last-good/`; `readOnly` for the CLI's readers. */
export class FileLastGood implements LastGoodVersions, LastGoodFiles {
  private readonly root: string;
  /** What was written last, so that an unchanged version is not written again at every sync. */
  private readonly written = new Map<string, string>();

  constructor(
    stateDir: string,
    private readonly readOnly = false,
  ) {
    this.root = join(stateDir, 'last-good');
  }

  get(kind: Kind, key: string): LastGoodVersion | undefined {
    const text = this.readText(this.versionPath(kind, key));
    return text === undefined ? undefined : (JSON.parse(text) as LastGoodVersion);
  }

  put(kind: Kind, key: string, version: LastGoodVersion): void {
    const file = this.versionPath(kind, key);
    // Compared without savedAt: an unchanged version is not written again at every sync.
    const content = JSON.stringify({ ...version, savedAt: undefined });
    if (this.written.get(file) === content) return;
    const before = this.get(kind, key);
    if (!before || JSON.stringify({ ...before, savedAt: undefined }) !== content) {
      this.writeText(file, `${JSON.stringify(version, null, 2)}\n`);
    }
    this.written.set(file, content);
  }

  remove(kind: Kind, key: string): void {
    this.removePath(this.versionPath(kind, key));
  }

  fileText(file: string): string | undefined {
    const text = this.readText(this.filePath(file));
    if (text === undefined) return undefined;
    const newline = text.indexOf('\n');
    return text.slice(0, newline) === file ? text.slice(newline + 1) : undefined;
  }

  keepFileText(file: string, text: string): void {
    const path = this.filePath(file);
    if (this.written.get(path) === text) return;
    // The first line names the file, so that a hash collision can never hand over another file's text.
    if (this.fileText(file) !== text) this.writeText(path, `${file}\n${text}`);
    this.written.set(path, text);
  }

  forgetFile(file: string): void {
    this.removePath(this.filePath(file));
  }

  retainOnly(present: ReadonlyArray<{ kind: Kind; key: string }>): void {
    this.prune(join(this.root, 'resources'), new Set(present.map((p) => this.versionPath(p.kind, p.key))));
  }

  retainFiles(files: readonly string[]): void {
    this.prune(join(this.root, 'files'), new Set(files.map((f) => this.filePath(f))));
  }

  private prune(dir: string, keep: ReadonlySet<string>): void {
    if (this.readOnly || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!keep.has(path)) this.removePath(path);
    }
  }

  private versionPath(kind: Kind, key: string): string {
    return join(this.root, 'resources', `${kind}-${safeName(key)}.json`);
  }

  private filePath(file: string): string {
    // Not .yaml: the first line names the file, so the text is not a YAML document that tools should read.
    return join(this.root, 'files', `${safeName(file)}.txt`);
  }

  private readText(path: string): string | undefined {
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  private writeText(path: string, text: string): void {
    if (!this.readOnly) writeFileAtomic(path, text);
  }

  private removePath(path: string): void {
    this.written.delete(path);
    if (!this.readOnly) rmSync(path, { force: true });
  }
}
