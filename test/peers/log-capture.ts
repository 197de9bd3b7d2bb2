/** A pino logger (the product's createLogger, redaction included) that writes to memory, for asserting on logs. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

export interface CapturedLog {
  log: Logger;
  /** Everything logged so far, as the JSON lines pino wrote. */
  text(): string;
  entries(): Array<Record<string, unknown>>;
  clear(): void;
}

export function captureLogger(level = 'debug'): CapturedLog {
  const lines: string[] = [];
  // Calling back synchronously keeps writes synchronous, so text() sees every line logged before it.
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return {
    log: createLogger({ level, destination }),
    text: () => lines.join(''),
    entries: () =>
      lines
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    clear: () => {
      lines.length = 0;
    },
  };
}
