/**
 * A session with another instance of the home solution (spec.m42): its REST API v1 client (the one the m42
 * target uses, targets/m42/api), logged in with the connector's API user (spec.m42.secretRef, keys
 * `username` and `password`), over the connector's TLS settings. Closing it cancels calls in flight.
 */
import type { M42Connector } from '../../generated/types.js';
import { parseDuration } from '../../model/duration.js';
import { ExtractError } from '../../model/errors.js';
import type { Connector } from '../../model/resources.js';
import { secretKey } from '../../secrets/resolver.js';
import { DataCards } from '../../targets/m42/api/data-cards.js';
import { M42Client } from '../../targets/m42/api/m42-client.js';
import { TemplateCache } from '../../targets/m42/template-cache.js';
import type { RetryOptions } from '../../transport/http-client.js';
import { SecretScrubber } from '../../transport/scrub.js';
import { openSessionScope, toExtractError } from '../kit/session-scope.js';
import type { ConnectionContext } from '../types.js';

export interface M42RuntimeOptions {
  retry?: Partial<RetryOptions>;
}

export interface M42Session {
  block: M42Connector;
  client: M42Client;
  cards: DataCards;
  templates: TemplateCache;
  close(): Promise<void>;
  /** Anything thrown during the session as an ExtractError without secret values. */
  toExtractError(e: unknown): unknown;
}

export function m42Block(connector: Connector): M42Connector {
  const block = connector.spec.m42;
  if (!block) throw new ExtractError(`Connector ${connector.metadata.name} has no spec.m42 block`);
  return block;
}

export async function openM42Session(ctx: ConnectionContext, options: M42RuntimeOptions = {}): Promise<M42Session> {
  const block = m42Block(ctx.connector);
  const scrubber = new SecretScrubber();
  const system = `M42 connector ${ctx.connector.metadata.name}`;
  const scope = await openSessionScope(block, ctx, { scrubber, system });
  const secretName = block.secretRef.name;
  const client = new M42Client({
    baseUrl: block.baseUrl,
    credentials: async () => ({
      username: await secretKey(ctx.secrets, ctx.namespace, secretName, 'username'),
      password: await secretKey(ctx.secrets, ctx.namespace, secretName, 'password'),
    }),
    dispatcher: scope.dispatcher,
    timeoutMs: parseDuration(block.timeout ?? '30s'),
    log: ctx.log,
    signal: scope.signal,
    retry: options.retry,
    timeoutField: 'spec.m42.timeout',
    caField: 'spec.m42.tls.caSecretRef',
    system: `the other instance at ${new URL(block.baseUrl).host}`,
    // One scrubber for the session: the client registers the password and tokens with it.
    scrubber,
  });
  const cards = new DataCards(client);
  return {
    block,
    client,
    cards,
    templates: new TemplateCache(cards),
    close: scope.close,
    toExtractError: (e) => toExtractError(e, scrubber, ctx.signal, 'M42'),
  };
}
