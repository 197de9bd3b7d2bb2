/**
 * Test connection (Connector status, `provisio test-connection`): connect (StartTLS or ldaps:// as configured),
 * bind as the service account, and read the rootDSE: naming contexts, whether paged results are supported
 * (every read depends on them), and for Active Directory the DC's dnsHostName and highestCommittedUSN.
 */
import type { ConnectionCheck, ConnectionContext } from '../types.js';
import { normalDn } from './records.js';
import { openLdapSession, PAGED_RESULTS_OID, readRootDse } from './session.js';

export async function checkLdapConnection(ctx: ConnectionContext): Promise<ConnectionCheck> {
  let session: Awaited<ReturnType<typeof openLdapSession>> | undefined;
  try {
    session = await openLdapSession(ctx);
    const root = await readRootDse(session.client);
    const { block, url } = session.settings;
    const how = session.settings.secure ? 'ldaps' : session.protected ? 'StartTLS' : 'a plain connection (no TLS)';
    const parts = [`bound to ${url.host} as "${block.bindDn}" over ${how}`];
    parts.push(`naming contexts: ${root.namingContexts.join(', ') || 'none shown'}`);
    const paged = root.supportedControls.includes(PAGED_RESULTS_OID);
    parts.push(`paged results ${paged ? 'supported' : 'NOT supported'} (${root.supportedControls.length} controls)`);
    if (root.dnsHostName) parts.push(`dnsHostName ${root.dnsHostName}`);
    if (root.highestCommittedUSN) parts.push(`highestCommittedUSN ${root.highestCommittedUSN}`);
    const base = normalDn(block.baseDn);
    const covered = root.namingContexts.some((nc) => base.endsWith(normalDn(nc)));
    if (root.namingContexts.length > 0 && !covered) {
      return { ok: false, message: `${parts.join('; ')}; spec.ldap.baseDn "${block.baseDn}" is under none of them` };
    }
    if (!paged) {
      return { ok: false, message: `${parts.join('; ')}: reads need the paged results control (${PAGED_RESULTS_OID})` };
    }
    return { ok: true, message: parts.join('; ') };
  } catch (e) {
    const err = session ? session.toError(e, 'reading the rootDSE') : e;
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  } finally {
    await session?.close();
  }
}
