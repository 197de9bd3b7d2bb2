/** An app registration's certificate (RSA 2048, self-signed, a day) and its private key, made with the openssl CLI. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function createAppCertificate(): Promise<{ certificate: string; privateKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'provisio-appcert-'));
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=provisio-test-app',
      '-keyout',
      join(dir, 'app.key'),
      '-out',
      join(dir, 'app.crt'),
    ]);
    return {
      certificate: await readFile(join(dir, 'app.crt'), 'utf8'),
      privateKey: await readFile(join(dir, 'app.key'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
