#!/usr/bin/env node
// `npm run quickstart [-- --state-dir D] [-- --target m42]`: starts the SAMPLE HR API, runs every scheduled
// task of examples/quickstart once into the embedded local target, then shows the loaded cards and the task
// status. With `--target m42` the cards go to a simulator of the home solution's REST API instead
// (test/peers/m42-api, seeded from examples/quickstart/m42-seed.json) and are read back through the API.
// Every command it prints is the one it runs, spelled so that it works when copied into a shell at the
// repository's root (same --dir and --state-dir; `npm run provisio --` since a checkout has no `provisio` on PATH).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const flag = process.argv.indexOf('--state-dir');
const stateDirArg = flag >= 0 ? process.argv[flag + 1] : undefined;
if (flag >= 0 && !stateDirArg) {
  console.error('quickstart: --state-dir needs a directory');
  process.exit(2);
}
const targetFlag = process.argv.indexOf('--target');
const target = targetFlag >= 0 ? process.argv[targetFlag + 1] : 'local';
if (target !== 'local' && target !== 'm42') {
  console.error('quickstart: --target is local or m42');
  process.exit(2);
}
const absState = resolve(stateDirArg ?? join(root, '.provisio', target === 'm42' ? 'quickstart-m42' : 'quickstart'));
// Printed relative to the repository when it lies inside it, as a user would type it.
const rel = relative(root, absState);
const stateDir = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absState;

/** Prints `$ npm run provisio -- ARGS`, then runs exactly ARGS. */
const cli = (args, env = {}) => {
  console.log(`\n$ npm run provisio -- ${args.join(' ')}`);
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, ...env },
  }).status;
};

const api = spawn(process.execPath, [join(root, 'examples/quickstart/sample-api.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((done, fail) => {
  api.stdout.once('data', (d) => {
    process.stdout.write(d);
    done();
  });
  api.once('exit', (code) => fail(new Error(`the sample API exited (${code}): is port 4010 free?`)));
});
/**
 * The simulator of the home solution for `--target m42`, as a process of its own, and the WebAPI user's
 * Secret in a secrets directory under the state dir (so that no printed command carries the password).
 */
async function startHomeSolution() {
  const seed = join(root, 'examples/quickstart/m42-seed.json');
  const sim = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/peers/m42-api/main.ts'), '--port', '0', '--seed', seed],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: root },
  );
  const line = await new Promise((done, fail) => {
    createInterface({ input: sim.stdout }).once('line', done);
    sim.once('exit', (code) => fail(new Error(`the home solution simulator exited (${code})`)));
  });
  const { url } = JSON.parse(line);
  const user = JSON.parse(readFileSync(seed, 'utf8')).users[0];
  const secret = join(absState, 'secrets', 'quickstart-webapi');
  mkdirSync(secret, { recursive: true });
  writeFileSync(join(secret, 'username'), user.login);
  writeFileSync(join(secret, 'password'), user.password, { mode: 0o600 });
  console.log(`the home solution's REST API (a simulator, test/peers/m42-api) listens at ${url}`);
  return { sim, url };
}

let status = 1;
const home = target === 'm42' ? await startHomeSolution() : undefined;
try {
  const secretsDir = join(stateDir, 'secrets');
  const m42 = home ? ['--target', 'm42', '--target-url', home.url] : [];
  status = cli(
    [
      'run',
      '--dir',
      'examples/quickstart',
      '--state-dir',
      stateDir,
      '--once',
      ...m42,
      ...(home ? ['--secrets-dir', secretsDir] : []),
    ],
    { PROVISIO_LOG_LEVEL: process.env.PROVISIO_LOG_LEVEL ?? 'warn' },
  );
  if (home) {
    cli([
      'cards',
      'employee',
      ...m42,
      '--webapi-secret',
      'quickstart-webapi',
      '--secrets-dir',
      secretsDir,
      '--limit',
      '10',
    ]);
  } else {
    cli(['cards', 'employee', '--state-dir', stateDir, '--limit', '10']);
  }
  cli(['get', 'tasks', '-n', 'quickstart', '--dir', 'examples/quickstart', '--state-dir', stateDir]);
  console.log('\nThe commands above work as printed from the repository root (the first needs the sample API:');
  console.log(
    home
      ? '`node examples/quickstart/sample-api.mjs`, and the simulator while this runs).'
      : '`node examples/quickstart/sample-api.mjs`).',
  );
} finally {
  api.kill();
  home?.sim.kill('SIGTERM');
}
process.exit(status ?? 1);
