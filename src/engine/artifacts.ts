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

/** Records are serialized this many at a time: one JSON.stringify and one write per batch, not per record. */
const RECORDS_PER_WRITE = 500;

interface ArtifactFile {
  stream: WriteStream;
  file: string;
  /** Records not written yet. */
  buffer: unknown[];
  first: boolean;
}

export class ArtifactWriter {
  private readonly files = new Map<RecordKind, ArtifactFile>();

  constructor(private readonly dir: string) {}

  async write(kind: RecordKind, record: unknown): Promise<void> {
    let f = this.files.get(kind);
    if (!f) {
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, `${ARTIFACT_NAMES[kind]}.json`);
      // A 1 MiB buffer: the default 16 KiB makes the extract wait for 'drain' every few records.
      f = { stream: createWriteStream(file, { highWaterMark: 1 << 20 }), file, buffer: [], first: true };
      f.stream.write('[\n');
      this.files.set(kind, f);
    }
    f.buffer.push(record);
    if (f.buffer.length >= RECORDS_PER_WRITE) await this.drain(f);
  }

  /** Writes the buffered records as the next elements of the array, one per line. */
  private async drain(f: ArtifactFile): Promise<void> {
    if (f.buffer.length === 0) return;
    const text = f.buffer.map((r) => JSON.stringify(r)).join(',\n');
    f.buffer = [];
    const ok = f.stream.write(f.first ? text : `,\n${text}`);
    f.first = false;
    // Respect backpressure so a slow disk does not make the extract buffer in memory.
    if (!ok) await new Promise<void>((resolve) => f.stream.once('drain', resolve));
  }

  /** Closes the files; answers their paths by artifact name. */
  async close(): Promise<Partial<Record<'users' | 'groups' | 'generic', string>>> {
    const files: Partial<Record<'users' | 'groups' | 'generic', string>> = {};
    for (const [kind, f] of this.files) {
      await this.drain(f);
      await new Promise<void>((resolve, reject) => {
        f.stream.end('\n]\n', () => resolve());
        f.stream.once('error', reject);
      });
      files[ARTIFACT_NAMES[kind]] = f.file;
    }
    this.files.clear();
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
