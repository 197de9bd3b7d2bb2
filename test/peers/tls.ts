/**
 * A throwaway PKI made with the openssl CLI: a CA and a server certificate for 127.0.0.1 and localhost,
 * signed by it, valid for a day. Use it to serve https in tests and to pin that clients verify certificates.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  /** PEM of the CA certificate (what a client must trust). */
  caCert: string;
  /** PEM of the server certificate and its key. */
  serverCert: string;
  serverKey: string;
  cleanup(): Promise<void>;
}

export async function createTestPki(options: { hosts?: string[]; ips?: string[] } = {}): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'provisio-pki-'));
  const file = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=Provisio Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', [
    'req',
    ...ec,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  const names = [
    ...(options.hosts ?? ['localhost']).map((h) => `DNS:${h}`),
    ...(options.ips ?? ['127.0.0.1']).map((ip) => `IP:${ip}`),
  ];
  await writeFile(
    file('server.ext'),
    [
      `subjectAltName=${names.join(',')}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.crt'),
    '-days',
    '1',
    '-extfile',
    file('server.ext'),
  ]);
  return {
    dir,
    caCert: await readFile(file('ca.crt'), 'utf8'),
    serverCert: await readFile(file('server.crt'), 'utf8'),
    serverKey: await readFile(file('server.key'), 'utf8'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
