/**
 * A connector type's connection check, bounded in time and never throwing: what the connector reconciler
 * writes into status.connection and what `provisio test-connection --dir` prints.
 */
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { ConnectionCheck } from '../connectors/types.js';
import type { Logger } from '../log/logger.js';
import type { Connector } from '../model/resources.js';
import { namespaceOf } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';

export const CHECK_TIMEOUT_MS = 30_000;

export async function runConnectionCheck(
  types: ConnectorRegistry,
  connector: Connector,
  secrets: SecretResolver,
  log: Logger,
  /** The file that declares the connector (git-directory mode), for paths relative to it. */
  connectorFile?: string,
): Promise<ConnectionCheck> {
  const type = types.get(connector.spec.type);
  if (!type.checkConnection) {
    return { ok: false, message: `${connector.spec.type} connectors have no connection check in this version` };
  }
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    return await type.checkConnection({
      connector,
      namespace: namespaceOf(connector),
      secrets,
      signal,
      connectorFile,
      log: log.child({ connector: `${namespaceOf(connector)}/${connector.metadata.name}` }),
    });
  } catch (e) {
    return {
      ok: false,
      message: signal.aborted ? `no answer within ${CHECK_TIMEOUT_MS / 1000}s` : (e as Error).message,
    };
  }
}
