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
  options: { level?: string; destination?: NodeJS.WritableStream; base?: object } = {},
): Logger {
  return pino(
    {
      level: options.level ?? process.env.PROVISIO_LOG_LEVEL ?? 'info',
      base: options.base ?? {},
      redact: {
        paths: REDACT_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers["${k.toLowerCase()}"]`]),
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Asynchronous writes: lines written while one write is in flight go out together (one syscall under load
    // instead of one per line); pino flushes what is pending when the process exits.
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that discards everything, for library calls that need one and tests that do not read it. */
export const silentLogger: Logger = pino({ level: 'silent' });
