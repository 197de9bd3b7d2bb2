/**
 * Test connection (Connector status, `provisio test-connection`): `GET /echo` shows the API answers at the
 * base URL, `GET /echo/jwt` after a login shows the API user's credentials work. One attempt each.
 */
import type { ConnectionCheck, ConnectionContext } from '../types.js';
import { type M42RuntimeOptions, type M42Session, openM42Session } from './session.js';

export async function checkM42Connection(
  ctx: ConnectionContext,
  options: M42RuntimeOptions = {},
): Promise<ConnectionCheck> {
  let session: M42Session;
  try {
    session = await openM42Session(ctx, { retry: { maxAttempts: 1, ...options.retry } });
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
  const base = session.client.base;
  try {
    await session.client.echo(false);
    await session.client.echo(true);
    return {
      ok: true,
      message: `${base.host}${base.pathname}: /echo answered, and /echo/jwt after the API user's login`,
    };
  } catch (e) {
    const err = session.toExtractError(e);
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  } finally {
    await session.close();
  }
}
