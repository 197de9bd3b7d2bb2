/**
 * Records of a kind that references another kind (a user's groups) wait on disk until the stream ended
 * and the referenced kind is loaded, so that the target can turn keys into its own references (DESIGN §4).
 * On disk, one JSON line per record: memory does not grow with the extract.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ExtractedRecord, RecordKind } from '../model/records.js';

export class DeferredRecords {
  private readonly files = new Map<RecordKind, { file: string; stream: WriteStream }>();

  constructor(private readonly dir: string) {}

  /** `position`: the record's number in the extract, for the issues that name it. */
  async add(record: ExtractedRecord, position: number): Promise<void> {
    let f = this.files.get(record.kind);
    if (!f) {
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, `deferred-${record.kind}.ndjson`);
      f = { file, stream: createWriteStream(file, { highWaterMark: 1 << 20 }) };
      this.files.set(record.kind, f);
    }
    if (!f.stream.write(`${JSON.stringify([position, record])}\n`)) await once(f.stream, 'drain');
  }

  /** The waiting records of a kind, in the order they came. */
  async *take(kind: RecordKind): AsyncGenerator<[position: number, record: ExtractedRecord]> {
    const f = this.files.get(kind);
    if (!f) return;
    this.files.delete(kind);
    await new Promise<void>((resolve, reject) => f.stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const lines = createInterface({ input: createReadStream(f.file), crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) if (line !== '') yield JSON.parse(line) as [number, ExtractedRecord];
    } finally {
      rmSync(f.file, { force: true });
    }
  }

  close(): void {
    for (const f of this.files.values()) {
      // A stream still opening its file (a resync right after the first record) fails once the directory is
      // gone: that failure is expected and must not surface as an unhandled error.
      f.stream.on('error', () => {});
      f.stream.destroy();
      rmSync(f.file, { force: true });
    }
    this.files.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
