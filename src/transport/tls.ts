/**
 * The undici dispatcher of one session. A custom CA (spec.rest.tls.caSecretRef, spec.scim.tls.caSecretRef) is added to Node's
 * public roots rather than replacing them, so that a login server with a public certificate keeps
 * working next to an API with a private one. Verification is never disabled.
 */
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import type { SecretKeyRef } from '../generated/types.js';
import { type SecretResolver, secretKey } from '../secrets/resolver.js';

export const DEFAULT_CA_KEY = 'ca.crt';

/** The TLS settings of a connector block (spec.rest.tls, spec.scim.tls). */
export interface TlsSettings {
  caSecretRef?: SecretKeyRef;
  serverName?: string;
}

export async function createDispatcher(
  block: { tls?: TlsSettings },
  secrets: SecretResolver,
  namespace: string,
): Promise<Agent> {
  const ref = block.tls?.caSecretRef;
  const ca = ref
    ? [...rootCertificates, await secretKey(secrets, namespace, ref.name, ref.key ?? DEFAULT_CA_KEY)]
    : undefined;
  // One secure context for every connection of the session: given `ca` instead, Node parses the ~140 public
  // roots again for each new TLS connection (about 30 ms of CPU each, measured in bench:events' Graph phase).
  return new Agent({
    connect: {
      ...(ca ? { secureContext: createSecureContext({ ca }) } : {}),
      ...(block.tls?.serverName ? { servername: block.tls.serverName } : {}),
    },
  });
}
