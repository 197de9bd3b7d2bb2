/**
 * The Redis connection of the shared state backend (`--redis URL`), used when more than one replica serves
 * the event endpoint: what one replica stored (an Idempotency-Key's first result, invocation counters) the
 * others must see. The URL may carry a password: logs and errors name only host and port.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../../log/logger.js';

export const KEY_PREFIX = 'provisio:';

/** host:port (or the socket path) of a Redis URL: safe to log. */
export function redisEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return u.host || u.pathname;
  } catch {
    return 'an unparsable Redis URL';
  }
}

/** Connects, failing within `timeoutMs` with a message that names the endpoint but not the URL's secrets. */
export async function connectRedis(url: string, log: Logger, timeoutMs = 10_000): Promise<Redis> {
  const where = redisEndpoint(url);
  let client: Redis;
  try {
    client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: timeoutMs });
  } catch {
    throw new Error(`--redis: ${where} is not a valid Redis URL (redis://[:password@]host:port[/db] or rediss://...)`);
  }
  // A connection that drops later is retried by ioredis; only say so, never the URL.
  client.on('error', (e: Error) => log.warn({ redis: where, err: e.message.replaceAll(url, where) }, 'Redis error'));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    throw new Error(`--redis: cannot reach Redis at ${where}: ${(e as Error).message.replaceAll(url, where)}`);
  }
  log.info({ redis: where }, `shared state in Redis at ${where}`);
  return client;
}
