/**
 * LDAP failures in words an admin can act on. A bind refused with invalidCredentials (49) is explained by the
 * Active Directory sub-code in its diagnostic message (`data 52e`, ...) or, on OpenLDAP, by what the password
 * policy (ppolicy) may have done; a size limit is a failure, never an end of data.
 */
import { InvalidCredentialsError, ResultCodeError, SizeLimitExceededError } from 'ldapts';

/** Active Directory's reasons for a refused bind (the `data NNN` part of the diagnostic message). */
export const AD_BIND_SUBCODES: Readonly<Record<string, string>> = {
  '525': 'the bind account does not exist (AD 525: user not found)',
  '52e': 'the bind password is wrong (AD 52e: invalid credentials)',
  '530': 'the bind account may not log on at this time (AD 530: logon hours)',
  '531': 'the bind account may not log on from this computer (AD 531: workstation restriction)',
  '532': 'the bind account password has expired (AD 532): set a new one and update the Secret',
  '533': 'the bind account is disabled (AD 533)',
  '568': 'the bind account is in too many groups (AD 568: security context too large)',
  '701': 'the bind account has expired (AD 701: accountExpires passed)',
  '773': 'the bind account must change its password before it can bind (AD 773: pwdLastSet is 0)',
  '775': 'the bind account is locked out (AD 775): wait for the lockout to end or unlock it',
};

const OPENLDAP_49 =
  'invalid credentials (49): the bind DN or password is wrong, or the password policy (ppolicy) locked the ' +
  'account after failed binds or its password expired';

/** The AD sub-code of a diagnostic message such as `80090308: LdapErr: DSID-0C09044E, comment: ..., data 52e, v4563`. */
export function adSubcode(message: string): string | undefined {
  return /\bdata ([0-9a-f]{3,8})\b/i.exec(message)?.[1]?.toLowerCase();
}

/** What a bind failure means, for test-connection and run failures. */
export function explainBindError(e: unknown, bindDn: string): string {
  const raw = e instanceof Error ? e.message : String(e);
  if (e instanceof InvalidCredentialsError) {
    const code = adSubcode(raw);
    const why = code && AD_BIND_SUBCODES[code] ? AD_BIND_SUBCODES[code] : OPENLDAP_49;
    return `bind as "${bindDn}" refused: ${why}`;
  }
  if (tlsProblem(e)) return describeLdapError(e);
  return `bind as "${bindDn}" failed: ${describeLdapError(e)}`;
}

/** One LDAP error as text: the result code's name and number, then the server's diagnostic message. */
export function describeLdapError(e: unknown): string {
  if (e instanceof SizeLimitExceededError) {
    return 'the server stopped the search at its size limit (sizeLimitExceeded, 4) although the read was paged: raise the limit for the bind account (OpenLDAP size.prtotal, AD MaxPageSize)';
  }
  if (e instanceof ResultCodeError) {
    const name = e.constructor.name.replace(/Error$/, '');
    return `${name} (${e.code})${e.message ? `: ${e.message}` : ''}`;
  }
  const err = e as { code?: string; message?: string };
  if (tlsProblem(e)) {
    return `the server certificate is not trusted (${err.message}): add the CA that signed it as spec.ldap.tls.caSecretRef, or set spec.ldap.tls.serverName to a name the certificate carries`;
  }
  if (err?.code === 'ECONNREFUSED') return `connection refused (${err.message})`;
  return e instanceof Error ? e.message : String(e);
}

/** Node's certificate verification failures (self-signed, unknown issuer, wrong host name). */
function tlsProblem(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
}
