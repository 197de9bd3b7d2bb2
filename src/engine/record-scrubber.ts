/**
 * The run's secret scrubber (ADR 0007): a source that echoes a credential in what it answers (a token in a
 * "me" record, the Basic value in a debug field) must not have it written to artifacts or cards. Every record is
 * scrubbed once, as it comes from the extract, with one SecretScrubber (transport/scrub.ts, the same one that
 * keeps secrets out of errors): it knows every secret value the connector references, and the connector's
 * session adds what it obtains at run time (a dynamic token) to it through the extract context.
 */
import type { ConnectorType } from '../connectors/types.js';
import type { ExtractedRecord } from '../model/records.js';
import type { Connector } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';
import type { SecretScrubber } from '../transport/scrub.js';

/** A CA certificate is not a secret worth scanning every record for. */
const NOT_SECRET_FIELD = /^caSecretRef$/i;

/** Registers the values of every secret the connector references; one that cannot be read is the extract's error. */
export async function registerConnectorSecrets(
  scrubber: SecretScrubber,
  type: ConnectorType,
  connector: Connector,
  secrets: { resolver: SecretResolver; namespace: string },
): Promise<void> {
  for (const { ref, field } of type.secretRefs(connector)) {
    if (NOT_SECRET_FIELD.test(field[field.length - 1] ?? '')) continue;
    try {
      scrubber.addSecretData(await secrets.resolver.get(secrets.namespace, ref.name));
    } catch {
      // The connector reports a missing secret in its own words when it needs it.
    }
  }
}

/** The record with every credential scrubbed from its data (the same object when there was none). */
export function scrubRecord(scrubber: SecretScrubber, record: ExtractedRecord): ExtractedRecord {
  const data = scrubber.scrubValue(record.data);
  return data === record.data ? record : { ...record, data };
}
