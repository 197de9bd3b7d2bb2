/**
 * What every connector session needs around its HTTP client: an abort signal of its own, aborted by the run's
 * signal or by close() (so that a consumer that stops early cancels calls in flight), the TLS dispatcher of the
 * connector block, and one way to turn whatever was thrown into an ExtractError with no secret value in it.
 */
import type { Dispatcher } from 'undici';
import { ExtractError, ProvisioError } from '../../model/errors.js';
import { SecretNotFoundError, type SecretResolver } from '../../secrets/resolver.js';
import type { SecretScrubber } from '../../transport/scrub.js';
import { createDispatcher } from '../../transport/tls.js';

export interface SessionScope {
  /** Aborted when the run stops or the session closes. */
  signal: AbortSignal;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/**
 * Opens the scope for a connector block with `tls` settings. `system`: the word for errors without a message
 * of their own ("REST extract failed: ...").
 */
export async function openSessionScope(
  block: Parameters<typeof createDispatcher>[0],
  ctx: { secrets: SecretResolver; namespace: string; signal: AbortSignal },
  errors: { scrubber: SecretScrubber; system: string },
): Promise<SessionScope> {
  const controller = new AbortController();
  const forward = (): void => controller.abort(ctx.signal.reason);
  if (ctx.signal.aborted) forward();
  ctx.signal.addEventListener('abort', forward, { once: true });
  const dispatcher = await createDispatcher(block, ctx.secrets, ctx.namespace).catch((e: unknown) => {
    ctx.signal.removeEventListener('abort', forward);
    throw toExtractError(e, errors.scrubber, ctx.signal, errors.system);
  });
  return {
    signal: controller.signal,
    dispatcher,
    async close() {
      ctx.signal.removeEventListener('abort', forward);
      if (!controller.signal.aborted) controller.abort(new Error(`${errors.system} session closed`));
      await dispatcher.destroy().catch(() => {});
    },
  };
}

/**
 * A stop request surfaces as the signal's reason; typed errors other than an extract failure (ResyncRequired)
 * as they are; anything else as an ExtractError scrubbed of secret values.
 */
export function toExtractError(e: unknown, scrubber: SecretScrubber, signal: AbortSignal, system: string): unknown {
  if (signal.aborted) return signal.reason;
  if (e instanceof ExtractError) {
    const message = scrubber.scrub(e.message);
    return message === e.message ? e : new ExtractError(message, e.status);
  }
  if (e instanceof SecretNotFoundError) return new ExtractError(e.message);
  if (e instanceof ProvisioError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new ExtractError(`${system} extract failed: ${scrubber.scrub(text)}`);
}
