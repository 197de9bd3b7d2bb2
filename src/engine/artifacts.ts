/**
 * Keeps the extracted JSON of a run (the seeds' users / groups / generic files), streamed to disk as
 * a JSON array so that memory does not grow with the extract, and prunes the files of older runs.
 */
import { createWriteStream, mkdirSync, readdirSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { RecordKind } from '../connectors/types.js';

/** Artifact file names follow the seeds' history fields. */
export const ARTIFACT_NAMES: Record<RecordKind, 'users' | 'groups' | 'generic'> = {
  identity: 'users',
  access: 'groups',
  generic: 'generic',
};

export class ArtifactWriter {
  private readonly streams = new Map<RecordKind, { stream: WriteStream; first: boolean; file: string }>();

  constructor(private readonly dir: string) {}

  async write(kind: RecordKind, record: unknown): Promise<void> {
    let s = this.streams.get(kind);
    if (!s) {
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, `${ARTIFACT_NAMES[kind]}.json`);
      // A 1 MiB buffer: the default 16 KiB makes the extract wait for 'drain' every few records.
      s = { stream: createWriteStream(file, { highWaterMark: 1 << 20 }), first: true, file };
      s.stream.write('[\n');
      this.streams.set(kind, s);
    }
    const ok = s.stream.write(`${s.first ? '' : ',\n'}${JSON.stringify(record)}`);
    s.first = false;
    // Respect backpressure so a slow disk does not make the extract buffer in memory.
    if (!ok) await new Promise<void>((resolve) => s.stream.once('drain', resolve));
  }

  /** Closes the files; answers their paths by artifact name. */
  async close(): Promise<Partial<Record<'users' | 'groups' | 'generic', string>>> {
    const files: Partial<Record<'users' | 'groups' | 'generic', string>> = {};
    for (const [kind, s] of this.streams) {
      await new Promise<void>((resolve, reject) => {
        s.stream.end('\n]\n', () => resolve());
        s.stream.once('error', reject);
      });
      files[ARTIFACT_NAMES[kind]] = s.file;
    }
    this.streams.clear();
    return files;
  }
}

/** Deletes the artifact folders of a task beyond the newest `keep` runs. */
export function pruneArtifacts(taskDir: string, keep: number): void {
  let entries: Array<{ path: string; time: number }>;
  try {
    entries = readdirSync(taskDir).map((name) => ({
      path: join(taskDir, name),
      time: statSync(join(taskDir, name)).mtimeMs,
    }));
  } catch {
    return;
  }
  entries.sort((a, b) => b.time - a.time);
  for (const old of entries.slice(keep)) rmSync(old.path, { recursive: true, force: true });
}
