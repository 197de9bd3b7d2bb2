#!/usr/bin/env node
// `npm run quickstart [-- --state-dir D]`: starts the SAMPLE HR API, runs every scheduled task of
// examples/quickstart once into the embedded local target, then shows the loaded cards and the task status.
// Every command it prints is the one it runs, spelled so that it works when copied into a shell at the
// repository's root (same --dir and --state-dir; `npm run provisio --` since a checkout has no `provisio` on PATH).
import { spawn, spawnSync } from 'node:child_process';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const flag = process.argv.indexOf('--state-dir');
const stateDirArg = flag >= 0 ? process.argv[flag + 1] : undefined;
if (flag >= 0 && !stateDirArg) {
  console.error('quickstart: --state-dir needs a directory');
  process.exit(2);
}
const absState = resolve(stateDirArg ?? join(root, '.provisio', 'quickstart'));
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
let status = 1;
try {
  status = cli(['run', '--dir', 'examples/quickstart', '--state-dir', stateDir, '--once'], {
    PROVISIO_LOG_LEVEL: process.env.PROVISIO_LOG_LEVEL ?? 'warn',
  });
  cli(['cards', 'employee', '--state-dir', stateDir, '--limit', '10']);
  cli(['get', 'tasks', '-n', 'quickstart', '--dir', 'examples/quickstart', '--state-dir', stateDir]);
  console.log('\nThe commands above work as printed from the repository root (the first needs the sample API:');
  console.log('`node examples/quickstart/sample-api.mjs`).');
} finally {
  api.kill();
}
process.exit(status ?? 1);
