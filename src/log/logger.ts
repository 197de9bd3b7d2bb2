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
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
}

/** A logger that discards everything, for library calls that need one and tests that do not read it. */
export const silentLogger: Logger = pino({ level: 'silent' });
