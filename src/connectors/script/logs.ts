/**
 * What a script writes besides its output: the log file (log_line), copied line by line into the run's log
 * as the script runs, secret values scrubbed, and the error file, whose content is the run's failure message.
 */
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../../log/logger.js';
import type { SecretScrubber } from '../../transport/scrub.js';

/** A runaway log does not flood the controller's log: the first lines are copied, the rest counted. */
export const MAX_FORWARDED_LINES = 10_000;
const MAX_ERROR_CHARS = 4000;

/**
 * Copies the script's log file into the run's log while the script runs (a long run shows its progress), by
 * reading what was appended since the last look, every `everyMs`; `finish()` reads the rest once the script
 * ended. Only complete lines are copied until then; the partial last line waits for its end.
 */
export class LogForwarder {
  private offset = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private lines = 0;
  private reading: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly scrubber: SecretScrubber,
    private readonly log: Logger,
    everyMs = 1000,
  ) {
    this.timer = setInterval(() => {
      this.reading = this.reading.then(() => this.readNew());
    }, everyMs);
    this.timer.unref();
  }

  private async readNew(): Promise<void> {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(this.file, 'r');
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.take(this.decoder.write(buffer.subarray(0, bytesRead)));
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn({ err: (e as Error).message }, 'cannot read the script log file');
      }
    } finally {
      await handle?.close();
    }
  }

  private take(text: string): void {
    const parts = (this.partial + text).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line);
  }

  private line(line: string): void {
    if (line.trim() === '') return;
    this.lines++;
    if (this.lines <= MAX_FORWARDED_LINES) this.log.info({ scriptLog: true }, `script: ${this.scrubber.scrub(line)}`);
  }

  /** Reads what is left after the script ended; the number of lines the log file had. */
  async finish(): Promise<number> {
    clearInterval(this.timer);
    await this.reading;
    await this.readNew();
    this.line(this.partial + this.decoder.end());
    this.partial = '';
    if (this.lines > MAX_FORWARDED_LINES) {
      this.log.warn(`script: ${this.lines - MAX_FORWARDED_LINES} more lines of its log file were not copied`);
    }
    return this.lines;
  }
}

/** The error file's text (trimmed, at most a few thousand characters), or '' when there is none. */
export async function readErrorFile(file: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const buffer = Buffer.alloc(MAX_ERROR_CHARS);
    const { bytesRead } = await handle.read(buffer, 0, MAX_ERROR_CHARS, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  } finally {
    await handle?.close();
  }
}
