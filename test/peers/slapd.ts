/**
 * A real OpenLDAP (Debian slapd 2.5) for tests: its own port(s) and temp dir, stopped by PID.
 * Overlays as a production directory has them: memberof (memberOf kept from groups' member), refint (a deleted
 * user leaves its groups), ppolicy (lockout after 3 wrong binds) and accesslog (deletes visible in cn=accesslog).
 * A non-root service account binds as the connector does, so the server's soft size limit (500) applies to it.
 *
 * `flavor: 'ad'` loads Debian's msuser.schema (Active Directory's user and group classes) with matching rules
 * added by syntax (as shipped it has none, so no filter would match), plus `thumbnailPhoto`. Entries then carry
 * objectGUID, objectSid, uSNChanged, userAccountControl and AD's memberOf on `group` entries. Not emulated:
 * uSNChanged only changes when a test sets it, no highestCommittedUSN, DirSync, tombstones or Show Deleted.
 * `npm test` installs slapd and ldap-utils (scripts/ensure-test-peers.mjs).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { createTestPki, type TestPki } from './tls.js';

const run = promisify(execFile);

export const SERVICE_PASSWORD = 'svc-Secret-1';
export const ADMIN_PASSWORD = 'admin-secret';

export interface SlapdOptions {
  flavor?: 'openldap' | 'ad';
  /** Serve ldaps:// on a second port and StartTLS on the plain one, with a throwaway CA. */
  tls?: boolean;
  /** The soft size limit for non-root binds (default 500). */
  sizeLimit?: number;
  /** size.prtotal: the most entries one paged search may return to a non-root bind (default unlimited). */
  pagedTotalLimit?: number;
  /** Without the accesslog database and overlay (a server whose deletes an incremental read cannot see). */
  accesslog?: boolean;
}

export interface SlapdPeer {
  flavor: 'openldap' | 'ad';
  url: string;
  /** ldaps:// URL when started with tls. */
  ldapsUrl?: string;
  /** PEM of the CA that signed the server certificate (tls). */
  caCert?: string;
  baseDn: string;
  adminDn: string;
  /** The account the connector binds as: reads everything, writes users and groups. */
  serviceDn: string;
  pid: number;
  /** ldapadd as the root DN; `ldif` may hold several entries. */
  add(ldif: string): Promise<void>;
  /** ldapmodify as the root DN (changetype records). */
  modify(ldif: string): Promise<void>;
  /** ldapsearch as the root DN; the raw LDIF output. */
  search(base: string, filter: string, attrs?: string[]): Promise<string>;
  stop(): Promise<void>;
}

const BASE = 'dc=example,dc=org';
const MODULES = 'moduleload back_mdb\nmoduleload memberof\nmoduleload ppolicy\nmoduleload refint\nmoduleload accesslog';

export async function startSlapd(options: SlapdOptions = {}): Promise<SlapdPeer> {
  const flavor = options.flavor ?? 'openldap';
  const dir = mkdtempSync(join(tmpdir(), 'provisio-slapd-'));
  const pki = options.tls ? await createTestPki() : undefined;
  for (const d of ['data', 'log']) mkdirSync(join(dir, d));
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, await config(dir, flavor, options, pki));
  await run('slaptest', ['-u', '-f', conf]).catch((e: { stderr?: string }) => {
    throw new Error(`slapd.conf does not load: ${e.stderr ?? e}`);
  });
  let proc: ChildProcess | undefined;
  let url = '';
  let ldapsUrl: string | undefined;
  for (let attempt = 0; attempt < 5 && !proc; attempt++) {
    const port = await freePort();
    const tlsPort = pki ? await freePort() : undefined;
    url = `ldap://127.0.0.1:${port}`;
    ldapsUrl = tlsPort ? `ldaps://127.0.0.1:${tlsPort}` : undefined;
    const listen = [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' ');
    const child = spawn('slapd', ['-f', conf, '-h', listen, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (await ready(child, url)) proc = child;
  }
  if (!proc?.pid) throw new Error('slapd did not start');
  const pid = proc.pid;
  const admin = ['-x', '-H', url, '-D', `cn=admin,${BASE}`, '-w', ADMIN_PASSWORD];
  const feed = async (tool: string, ldif: string): Promise<void> => {
    const file = join(dir, `in-${Date.now()}-${Math.random()}.ldif`);
    writeFileSync(file, ldif);
    try {
      await run(tool, [...admin, '-f', file], { maxBuffer: 64 * 1024 * 1024 });
    } catch (e) {
      throw new Error(`${tool} failed: ${(e as { stderr?: string }).stderr ?? e}`);
    } finally {
      rmSync(file, { force: true });
    }
  };
  const peer: SlapdPeer = {
    flavor,
    url,
    ldapsUrl,
    caCert: pki?.caCert,
    baseDn: BASE,
    adminDn: `cn=admin,${BASE}`,
    serviceDn: `cn=provisio,ou=services,${BASE}`,
    pid,
    add: (ldif) => feed('ldapadd', ldif),
    modify: (ldif) => feed('ldapmodify', ldif),
    async search(base, filter, attrs = []) {
      const { stdout } = await run(
        'ldapsearch',
        [...admin, '-LLL', '-o', 'ldif-wrap=no', '-b', base, filter, ...attrs],
        {
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      return stdout;
    },
    async stop() {
      const gone = new Promise<void>((resolve) => {
        if (proc?.exitCode !== null) resolve();
        else proc.once('exit', () => resolve());
      });
      try {
        process.kill(pid);
      } catch {
        // already gone
      }
      await gone;
      await pki?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await peer.add(baseEntries(flavor));
  return peer;
}

/** Resolves true once slapd answers a search on the rootDSE, false when it exits first (port taken). */
async function ready(child: ChildProcess, url: string): Promise<boolean> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !exited) {
    try {
      await run('ldapsearch', ['-x', '-H', url, '-b', '', '-s', 'base', '-LLL', '1.1']);
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 30));
    }
  }
  if (!exited) child.kill();
  return false;
}

async function config(dir: string, flavor: string, o: SlapdOptions, pki?: TestPki): Promise<string> {
  const { stdout: rootpw } = await run('slappasswd', ['-s', ADMIN_PASSWORD]);
  const schemas = ['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`);
  if (flavor === 'ad') {
    writeFileSync(join(dir, 'msuser.schema'), adSchema());
    schemas.push(`include ${join(dir, 'msuser.schema')}`);
  }
  const tls = pki
    ? [
        `TLSCACertificateFile ${join(pki.dir, 'ca.crt')}`,
        `TLSCertificateFile ${join(pki.dir, 'server.crt')}`,
        `TLSCertificateKeyFile ${join(pki.dir, 'server.key')}`,
      ]
    : [];
  const accesslog = o.accesslog !== false;
  const service = `cn=provisio,ou=services,${BASE}`;
  return [
    ...schemas,
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    MODULES,
    ...tls,
    `sizelimit size.soft=${o.sizeLimit ?? 500} size.hard=unlimited size.prtotal=${o.pagedTotalLimit ?? 'unlimited'}`,
    ...(accesslog
      ? [
          'database mdb',
          'maxsize 104857600',
          'suffix "cn=accesslog"',
          `rootdn "cn=admin,${BASE}"`,
          `directory ${join(dir, 'log')}`,
          'dbnosync',
          'index reqStart,reqType eq',
          `access to * by dn.exact="${service}" read by * none`,
        ]
      : []),
    'database mdb',
    'maxsize 1073741824',
    `suffix "${BASE}"`,
    `rootdn "cn=admin,${BASE}"`,
    `rootpw ${rootpw.trim()}`,
    `directory ${join(dir, 'data')}`,
    'dbnosync',
    'index objectClass eq',
    'index uid,cn,mail eq,sub',
    'index entryUUID,modifyTimestamp eq',
    ...(flavor === 'ad' ? ['index sAMAccountName eq,sub', 'index uSNChanged eq'] : []),
    `access to attrs=userPassword by dn.exact="${service}" write by self write by anonymous auth by * none`,
    `access to * by dn.exact="${service}" write by users read by * none`,
    'overlay memberof',
    `memberof-group-oc ${flavor === 'ad' ? 'group' : 'groupOfNames'}`,
    'memberof-member-ad member',
    'memberof-memberof-ad memberOf',
    'memberof-refint TRUE',
    'overlay refint',
    'refint_attributes member',
    'overlay ppolicy',
    `ppolicy_default "cn=default,ou=policies,${BASE}"`,
    'ppolicy_use_lockout',
    ...(accesslog
      ? ['overlay accesslog', 'logdb "cn=accesslog"', 'logops writes', 'logsuccess TRUE', 'logpurge 07+00:00 01+00:00']
      : []),
    '',
  ].join('\n');
}

/** Matching rules by syntax: what msuser.schema lacks for filters to match anything. */
const RULES: Record<string, string> = {
  '1.3.6.1.4.1.1466.115.121.1.15':
    'EQUALITY caseIgnoreMatch ORDERING caseIgnoreOrderingMatch SUBSTR caseIgnoreSubstringsMatch',
  '1.3.6.1.4.1.1466.115.121.1.27': 'EQUALITY integerMatch ORDERING integerOrderingMatch',
  '1.3.6.1.4.1.1466.115.121.1.12': 'EQUALITY distinguishedNameMatch',
  '1.3.6.1.4.1.1466.115.121.1.40': 'EQUALITY octetStringMatch',
  '1.3.6.1.4.1.1466.115.121.1.24': 'EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch',
  '1.3.6.1.4.1.1466.115.121.1.26': 'EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch',
  '1.3.6.1.4.1.1466.115.121.1.7': 'EQUALITY booleanMatch',
  '1.3.6.1.4.1.1466.115.121.1.38': 'EQUALITY objectIdentifierMatch',
  MSADlargeInteger: 'EQUALITY integerMatch ORDERING integerOrderingMatch',
  MSADdnWithOctetString: 'EQUALITY octetStringMatch',
  MSADdnWithString: 'EQUALITY octetStringMatch',
  MSADsecDesc: 'EQUALITY octetStringMatch',
};

function adSchema(): string {
  const text = readFileSync('/etc/ldap/schema/msuser.schema', 'utf8');
  const withRules = text.replace(/SYNTAX '([^']+)'/g, (all, syntax: string) =>
    RULES[syntax] ? `${RULES[syntax]} ${all}` : all,
  );
  return `${withRules}\nattributetype ( 1.2.840.113556.1.4.7000.102.51717 NAME 'thumbnailPhoto' EQUALITY octetStringMatch SYNTAX '1.3.6.1.4.1.1466.115.121.1.40' SINGLE-VALUE )\n`;
}

function baseEntries(flavor: string): string {
  const ous = ['people', 'groups', 'services', 'policies', 'elsewhere'];
  return [
    `dn: ${BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example`,
    ...ous.map((ou) => `dn: ou=${ou},${BASE}\nobjectClass: organizationalUnit\nou: ${ou}`),
    [
      `dn: cn=default,ou=policies,${BASE}`,
      'objectClass: applicationProcess',
      'objectClass: pwdPolicy',
      'cn: default',
      'pwdAttribute: userPassword',
      'pwdMaxFailure: 3',
      'pwdLockout: TRUE',
      'pwdLockoutDuration: 0',
    ].join('\n'),
    [
      `dn: cn=provisio,ou=services,${BASE}`,
      'objectClass: person',
      'cn: provisio',
      'sn: service',
      `userPassword: ${SERVICE_PASSWORD}`,
    ].join('\n'),
    ...(flavor === 'ad' ? [] : []),
  ].join('\n\n');
}

/** A GUID in AD's byte order (the first three groups little-endian), from its textual form. */
export function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  const swap = (s: number, n: number): Buffer => Buffer.from(b.subarray(s, s + n)).reverse();
  return Buffer.concat([swap(0, 4), swap(4, 2), swap(6, 2), b.subarray(8)]);
}

/** A SID's binary form, from S-1-5-21-... */
export function sidBytes(sid: string): Buffer {
  const [, rev, auth, ...subs] = sid.split('-');
  const out = Buffer.alloc(8 + subs.length * 4);
  out[0] = Number(rev);
  out[1] = subs.length;
  out.writeUIntBE(Number(auth), 2, 6);
  subs.forEach((s, i) => {
    out.writeUInt32LE(Number(s), 8 + i * 4);
  });
  return out;
}

/** An LDIF line with a base64 value (binary attributes). */
export const b64 = (attr: string, value: Buffer): string => `${attr}:: ${value.toString('base64')}`;

/** The attributes every AD-shaped entry must carry (mstop's MUST list), for `flavor: 'ad'` fixtures. */
export function adMandatory(category: 'Person' | 'Group'): string {
  return [
    'objectClass: extensibleObject',
    'instanceType: 4',
    `objectCategory: CN=${category},CN=Schema,CN=Configuration,${BASE}`,
    'nTSecurityDescriptor:: AQAEgA==',
  ].join('\n');
}
