/**
 * The git-directory source: reads Connector and Task YAML from a directory (usually a git
 * checkout), watches it, and applies adds, changes and deletes to the store, debounced.
 *
 * Every change revalidates the whole set, because a Task's validity depends on its Connector. A
 * file that stops parsing keeps serving its last good resources (marked with why they are stale),
 * so one broken commit never unschedules working tasks.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type FSWatcher, watch } from 'chokidar';
import type { Logger } from '../../log/logger.js';
import type { Connector, Task } from '../../model/resources.js';
import { keyOf } from '../../model/resources.js';
import type { SecretResolver } from '../../secrets/resolver.js';
import type { LastGoodFiles } from '../../state/last-good.js';
import type { ResourceStore } from '../../store/resource-store.js';
import type { Diagnostic } from '../../validation/diagnostics.js';
import { formatDiagnostic } from '../../validation/diagnostics.js';
import {
  displayPath,
  expandPaths,
  isResourceFile,
  parseDocuments,
  type SourceDocument,
} from '../../validation/documents.js';
import type { TypeRules } from '../../validation/type-rules.js';
import { validateDocuments } from '../../validation/validate.js';
import type { ResourceSource } from '../source.js';
import { StoreSync } from '../store-sync.js';

const execFileAsync = promisify(execFile);

interface FileState {
  documents: SourceDocument[];
  parseErrors: Diagnostic[];
  /** Documents of the last version of this file that parsed. */
  lastGood: SourceDocument[];
}

export interface GitDirSourceOptions {
  dir: string;
  store: ResourceStore;
  /** The connector types' rules, for validation (connectors/registry.ts `typeRules`). */
  types: TypeRules;
  secrets?: SecretResolver;
  log: Logger;
  debounceMs?: number;
  /** How often HEAD is re-read while watching (default 15 s). */
  revisionPollMs?: number;
  /** Where each file's last version that parsed is kept across restarts (the state directory). */
  lastGoodFiles?: LastGoodFiles;
}

export class GitDirSource implements ResourceSource {
  readonly dir: string;
  private readonly files = new Map<string, FileState>();
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private revisionTimer?: NodeJS.Timeout;
  private readonly dirty = new Set<string>();
  private applying: Promise<void> = Promise.resolve();
  private revisionValue?: string;
  private findings: Diagnostic[] = [];
  private readonly storeSync: StoreSync;

  constructor(private readonly opts: GitDirSourceOptions) {
    this.dir = resolve(opts.dir);
    this.storeSync = new StoreSync(opts.store, opts.log, 'resource removed from the directory');
  }

  /** HEAD commit of the directory's git checkout, if it is one. */
  get description(): string {
    return this.dir;
  }

  get revision(): string | undefined {
    return this.revisionValue;
  }

  /** Findings of the last validation, including documents that declare no resource. */
  get diagnostics(): readonly Diagnostic[] {
    return this.findings;
  }

  /** Reads everything once and applies it. */
  async load(): Promise<void> {
    const files = expandPaths([this.dir]);
    for (const file of files) this.readFile(file);
    // Files deleted while the controller was down: their kept text must not declare anything again.
    this.opts.lastGoodFiles?.retainFiles(files);
    await this.sync();
  }

  /** Starts watching; changes are applied after `debounceMs` of quiet. */
  async watch(): Promise<void> {
    this.watcher = watch(this.dir, {
      ignoreInitial: true,
      ignored: (path) => /(^|[\\/])(\.git|node_modules)([\\/]|$)/.test(path),
      awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
    });
    const mark = (path: string) => {
      if (!this.readsAtStart(path)) return;
      this.dirty.add(path);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.applying = this.applying
          .then(() => this.applyDirty())
          .catch((e: unknown) => {
            // Never let one failed sync end the process or stop later changes from applying.
            this.opts.log.error({ err: e }, 'applying directory changes failed; the previous state stays in force');
          });
      }, this.opts.debounceMs ?? 300);
    };
    this.watcher.on('add', mark).on('change', mark).on('unlink', mark);
    // A commit that touches no resource file still moves HEAD: poll it so status shows the applied revision.
    this.revisionTimer = setInterval(() => {
      this.applying = this.applying
        .then(async () => {
          const rev = await this.readRevision();
          if (rev !== this.revisionValue) await this.sync();
        })
        .catch((e: unknown) => this.opts.log.error({ err: e }, 'reading the git revision failed'));
    }, this.opts.revisionPollMs ?? 15_000);
    this.revisionTimer.unref();
    await new Promise<void>((ready) => this.watcher!.once('ready', () => ready()));
  }

  /** The files load() reads (expandPaths): YAML outside hidden folders; the watcher must not see more. */
  private readsAtStart(path: string): boolean {
    const segments = relative(this.dir, path).split(/[\\/]/);
    return (
      /\.ya?ml$/i.test(path) && isResourceFile(path) && !segments.some((s) => s.startsWith('.') || s === 'node_modules')
    );
  }

  /** Resolves when changes seen so far have been applied (for tests and --once). */
  async settled(): Promise<void> {
    await this.applying;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.revisionTimer);
    await this.watcher?.close();
    await this.applying;
  }

  private async applyDirty(): Promise<void> {
    const paths = [...this.dirty];
    this.dirty.clear();
    for (const path of paths) {
      try {
        this.readFile(path);
      } catch (e) {
        // Only a file that is gone removes its resources; an unreadable one (permissions, a
        // half-synced checkout) keeps what it declared, or its tasks' status and history would go.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          this.files.delete(path);
          this.opts.lastGoodFiles?.forgetFile(path);
        } else
          this.opts.log.error(
            { file: path, err: (e as Error).message },
            'cannot read a resource file; keeping what it declared before',
          );
      }
    }
    await this.sync();
  }

  private readFile(file: string): void {
    const text = readFileSync(file, 'utf8');
    const parsed = parseDocuments(displayPath(file), text);
    const prev = this.files.get(file);
    if (parsed.diagnostics.length === 0) this.opts.lastGoodFiles?.keepFileText(file, text);
    this.files.set(file, {
      documents: parsed.documents,
      parseErrors: parsed.diagnostics,
      lastGood: parsed.diagnostics.length === 0 ? parsed.documents : (prev?.lastGood ?? this.keptDocuments(file)),
    });
  }

  /** After a restart: the documents of the file's last version that parsed, as kept in the state directory. */
  private keptDocuments(file: string): SourceDocument[] {
    const kept = this.opts.lastGoodFiles?.fileText(file);
    if (kept === undefined) return [];
    const parsed = parseDocuments(displayPath(file), kept);
    if (parsed.diagnostics.length > 0) return [];
    this.opts.log.warn(
      { file: displayPath(file) },
      'a resource file does not parse: its resources keep their last good versions, kept in the state directory',
    );
    return parsed.documents;
  }

  private async readRevision(): Promise<string | undefined> {
    try {
      const { stdout } = await execFileAsync('git', ['-C', this.dir, 'rev-parse', 'HEAD'], { timeout: 5000 });
      return stdout.trim() || undefined;
    } catch {
      return undefined; // not a git checkout, or git not installed
    }
  }

  /** Validates the whole set and brings the store in line with it. */
  private async sync(): Promise<void> {
    this.revisionValue = await this.readRevision();
    const docs: Array<{ sd: SourceDocument; diskFile: string }> = [];
    const brokenFiles = new Map<string, Diagnostic[]>();
    // Directory walk order, as at startup and in `provisio validate`: which of two duplicates is "first" must not
    // depend on which file the watcher saw first.
    const files = [...this.files].sort(([a], [b]) => byWalkOrder(a, b));
    for (const [file, state] of files) {
      // A file that no longer parses still declares what it declared when it last parsed.
      const use = state.parseErrors.length > 0 ? state.lastGood : state.documents;
      if (state.parseErrors.length > 0) brokenFiles.set(file, state.parseErrors);
      for (const sd of use) docs.push({ sd, diskFile: file });
    }
    const result = await validateDocuments(docs, { types: this.opts.types, secrets: this.opts.secrets });
    const parseFindings = [...brokenFiles.values()].flat();
    this.findings = [...parseFindings, ...result.diagnostics];

    this.storeSync.apply(
      result.resources.map((r) => {
        const errors = [...r.errors, ...(brokenFiles.get(r.file) ?? [])];
        return {
          kind: r.kind,
          key: keyOf(r.resource),
          declared: r.resource as Connector | Task,
          valid: errors.length === 0,
          errors,
          warnings: r.warnings,
          origin: r.origin,
          revision: this.revisionValue,
        };
      }),
    );
    for (const d of this.findings.filter((f) => !f.resource)) {
      this.opts.log.warn(`ignored document: ${formatDiagnostic(d)}`);
    }
  }
}

/** The order expandPaths walks a tree in: directory by directory, names compared as it sorts them. */
function byWalkOrder(a: string, b: string): number {
  const sa = a.split(/[\\/]/);
  const sb = b.split(/[\\/]/);
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const c = sa[i].localeCompare(sb[i]);
    if (c !== 0) return c;
  }
  return sa.length - sb.length;
}
