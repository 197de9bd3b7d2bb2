/**
 * Structured logging (pino). Secrets are redacted by key wherever they appear, so a careless
 * `log.info({ headers })` cannot leak a token.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

const REDACT_KEYS = [
  'authorization',
  'Authorization',
  'password',
  'token',
  'clientSecret',
  'client_secret',
  'secret',
  'apiKey',
];

export function createLogger(
  options: {
    level?: string;
    destination?: NodeJS.WritableStream;
    base?: object;
    /** Told every line written, parsed (the task log ring of `provisio logs`). */
    onLine?: (entry: Record<string, unknown>) => void;
  } = {},
): Logger {
  const onLine = options.onLine;
  return pino(
    {
      level: options.level ?? process.env.PROVISIO_LOG_LEVEL ?? 'info',
      base: options.base ?? {},
      redact: {
        paths: REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers["${k.toLowerCase()}"]`]),
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      // pino writes a child's bindings after its parent's and the call's fields after both, without merging:
      // `component` bound by the root (run-command) and again by the scheduler's child came out twice in one
      // line. One key once, the innermost value winning (as JSON.parse reads it), is what log shippers expect.
      hooks: { streamWrite: (line: string) => uniqueKeys(line, onLine) },
    },
    // Asynchronous writes: lines written while one write is in flight go out together (one syscall under load
    // instead of one per line); pino flushes what is pending when the process exits.
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** The line with every top-level key once (the last value of a repeated key); unchanged when none repeats. */
export function uniqueKeys(line: string, onLine?: (entry: Record<string, unknown>) => void): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  if (onLine && parsed && typeof parsed === 'object') onLine(parsed as Record<string, unknown>);
  const again = JSON.stringify(parsed);
  const newline = line.endsWith('\n') ? '\n' : '';
  // Same length: no key was dropped (pino serializes as JSON.stringify does); keep pino's bytes.
  return again.length + newline.length === line.length ? line : `${again}${newline}`;
}

/** A logger that discards everything, for library calls that need one and tests that do not read it. */
export const silentLogger: Logger = pino({ level: 'silent' });
