/**
 * scripts/ensure-test-peers.mjs, the first step of `npm test`, as a child process: on a machine lacking a peer
 * and not allowed to install (not root, forced here with PROVISIO_TEST_PEERS_INSTALL=never) it stops at once,
 * naming the exact Debian packages; with every peer present it lets the suite go on.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../server/child.js';

const SCRIPT = join(repoRoot, 'scripts/ensure-test-peers.mjs');
const bin = mkdtempSync(join(tmpdir(), 'provisio-peers-bin-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** Where PROGRAM is on this machine's PATH (the suite itself needs them all). */
function which(program: string): string {
  const r = spawnSync('sh', ['-c', 'command -v "$0"', program], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} is not installed here`);
  return r.stdout.trim();
}

const ensure = (path: string) =>
  spawnSync(process.execPath, [SCRIPT], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { PATH: path, PROVISIO_TEST_PEERS_INSTALL: 'never', HOME: process.env.HOME },
    timeout: 20_000,
  });

describe('ensure-test-peers', () => {
  it('stops at once naming the package when redis-server is missing and it may not install', () => {
    // Every peer but redis-server (slapd is found in /usr/sbin, as on Debian).
    for (const p of ['python3', 'openssl', 'git', 'ldapadd']) symlinkSync(which(p), join(bin, p));
    const started = Date.now();
    const r = ensure(bin);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'npm test needs programs this machine lacks: redis-server.\n' +
        'Install the Debian packages, then run npm test again:\n' +
        '  sudo apt-get update && sudo apt-get install -y redis-server\n' +
        '(run as root with apt-get, npm test installs them itself)\n',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('names a program by its package when they differ, and every missing one', () => {
    const r = ensure(join(bin, 'nothing-here'));
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').slice(0, 3)).toEqual([
      'npm test needs programs this machine lacks: redis-server, ldapadd (ldap-utils), python3, openssl, git.',
      'Install the Debian packages, then run npm test again:',
      '  sudo apt-get update && sudo apt-get install -y redis-server ldap-utils python3 openssl git',
    ]);
  });

  it('lets the suite go on when every peer is present', () => {
    const r = ensure([bin, ...(process.env.PATH ?? '').split(delimiter)].join(delimiter));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
