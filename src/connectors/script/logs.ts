/**
 * What a script writes besides its output: the log file (log_line), copied line by line into the run's log
 * with secret values scrubbed, and the error file, whose content is the run's failure message.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Logger } from '../../log/logger.js';
import type { SecretScrubber } from '../../transport/scrub.js';

/** A runaway log does not flood the controller's log: the first lines are copied, the rest counted. */
export const MAX_FORWARDED_LINES = 10_000;
const MAX_ERROR_CHARS = 4000;

export async function forwardLogFile(file: string, scrubber: SecretScrubber, log: Logger): Promise<number> {
  let lines = 0;
  try {
    const input = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of input) {
      if (line.trim() === '') continue;
      lines++;
      if (lines <= MAX_FORWARDED_LINES) log.info({ scriptLog: true }, `script: ${scrubber.scrub(line)}`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0; // the script wrote no log
    throw e;
  }
  if (lines > MAX_FORWARDED_LINES) {
    log.warn(`script: ${lines - MAX_FORWARDED_LINES} more lines of its log file were not copied`);
  }
  return lines;
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
