/**
 * One LDAP connection of a run, a check or an event session: `ldaps://`, or `ldap://` upgraded with StartTLS
 * whenever spec.ldap.tls is set (a custom CA from tls.caSecretRef is added to Node's public roots, never a
 * skip-verify), then a simple bind as spec.ldap.bindDn with the Secret's `password`. The password is registered
 * with a scrubber so that no message carries it.
 */
import { rootCertificates } from 'node:tls';
import { Client, type Entry } from 'ldapts';
import { ExtractError, ProvisioError } from '../../model/errors.js';
import { SecretNotFoundError } from '../../secrets/resolver.js';
import { SecretScrubber } from '../../transport/scrub.js';
import { DEFAULT_CA_KEY } from '../../transport/tls.js';
import type { ConnectionContext } from '../types.js';
import { type LdapSettings, ldapSettings } from './config.js';
import { describeLdapError, explainBindError } from './errors.js';

export interface LdapSession {
  settings: LdapSettings;
  client: Client;
  /** Whether the connection is protected (ldaps:// or StartTLS): AD refuses password writes otherwise. */
  protected: boolean;
  scrub(text: string): string;
  /** Registers another secret value (a password an activity sets) with the scrubber. */
  addSecret(value: string): void;
  /** Any error of this session as an ExtractError with a readable, scrubbed message. */
  toError(e: unknown, doing: string): unknown;
  close(): Promise<void>;
}

type SessionContext = Pick<ConnectionContext, 'connector' | 'secrets' | 'namespace' | 'signal'>;

export async function openLdapSession(ctx: SessionContext): Promise<LdapSession> {
  const settings = ldapSettings(ctx.connector);
  const { block } = settings;
  const scrubber = new SecretScrubber();
  const password = await secretValue(ctx, block.secretRef.name, 'password');
  scrubber.add(password);
  const tlsOptions = await tlsFor(ctx, settings);
  const client = new Client({
    url: `${settings.url.protocol}//${settings.url.host}`,
    timeout: settings.timeoutMs,
    connectTimeout: settings.timeoutMs,
    ...(settings.secure ? { tlsOptions } : {}),
    strictDN: false,
  });
  const abort = (): void => void client.unbind().catch(() => {});
  ctx.signal.addEventListener('abort', abort, { once: true });
  const toError = (e: unknown, doing: string): unknown => {
    if (ctx.signal.aborted) return ctx.signal.reason;
    if (e instanceof ProvisioError) return e;
    return new ExtractError(scrubber.scrub(`${doing} failed on ${settings.url.host}: ${describeLdapError(e)}`));
  };
  const close = async (): Promise<void> => {
    ctx.signal.removeEventListener('abort', abort);
    await client.unbind().catch(() => {});
  };
  const upgraded = !settings.secure && block.tls !== undefined;
  try {
    if (upgraded) await client.startTLS(tlsOptions).catch((e) => Promise.reject(startTlsError(e, block.url)));
    await client
      .bind(block.bindDn, password)
      .catch((e) => Promise.reject(new ExtractError(explainBindError(e, block.bindDn))));
  } catch (e) {
    await close();
    throw toError(e, 'connecting');
  }
  return {
    settings,
    client,
    protected: settings.secure || upgraded,
    scrub: (t) => scrubber.scrub(t),
    addSecret: (v) => scrubber.add(v),
    toError,
    close,
  };
}

async function secretValue(ctx: SessionContext, name: string, key: string): Promise<string> {
  try {
    const data = await ctx.secrets.get(ctx.namespace, name);
    const v = data[key];
    if (v === undefined) throw new SecretNotFoundError(ctx.namespace, name, key);
    return v;
  } catch (e) {
    if (e instanceof SecretNotFoundError) throw new ExtractError(`spec.ldap.secretRef: ${e.message}`);
    throw e;
  }
}

async function tlsFor(ctx: SessionContext, s: LdapSettings) {
  const ref = s.block.tls?.caSecretRef;
  const ca = ref ? [...rootCertificates, await secretValue(ctx, ref.name, ref.key ?? DEFAULT_CA_KEY)] : undefined;
  const servername = s.block.tls?.serverName ?? s.url.hostname;
  return { ...(ca ? { ca } : {}), servername: isIp(servername) ? undefined : servername };
}

const isIp = (h: string): boolean => /^[0-9.]+$/.test(h) || h.includes(':');

function startTlsError(e: unknown, url: string): ExtractError {
  return new ExtractError(
    `StartTLS on ${url} failed: ${describeLdapError(e)}; spec.ldap.tls is set, so the connector never binds over a plain connection`,
  );
}

/** The rootDSE: naming contexts, supported controls, and what AD adds (dnsHostName, highestCommittedUSN). */
export interface RootDse {
  namingContexts: string[];
  supportedControls: string[];
  vendor?: string;
  dnsHostName?: string;
  highestCommittedUSN?: string;
  dsServiceName?: string;
  /** AD: the domain's DN, under which `CN=Deleted Objects` keeps the tombstones. */
  defaultNamingContext?: string;
}

export async function readRootDse(client: Client): Promise<RootDse> {
  const { searchEntries } = await client.search('', {
    scope: 'base',
    filter: '(objectClass=*)',
    attributes: [
      'namingContexts',
      'supportedControl',
      'vendorName',
      'dnsHostName',
      'highestCommittedUSN',
      'dsServiceName',
      'defaultNamingContext',
    ],
  });
  const e: Entry = searchEntries[0] ?? { dn: '' };
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v ? [String(v)] : []);
  const one = (v: unknown): string | undefined => list(v)[0];
  return {
    namingContexts: list(e.namingContexts),
    supportedControls: list(e.supportedControl),
    vendor: one(e.vendorName),
    dnsHostName: one(e.dnsHostName),
    highestCommittedUSN: one(e.highestCommittedUSN),
    dsServiceName: one(e.dsServiceName),
    defaultNamingContext: one(e.defaultNamingContext),
  };
}

export const PAGED_RESULTS_OID = '1.2.840.113556.1.4.319';
