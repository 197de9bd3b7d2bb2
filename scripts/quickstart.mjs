#!/usr/bin/env node
// `npm run quickstart`: starts the SAMPLE HR API, runs every scheduled task of examples/quickstart
// once into the embedded local target, then shows the loaded cards and the task status.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stateDir = join(root, '.provisio', 'quickstart');
const cli = (args, opts = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    stdio: 'inherit',
    cwd: root,
    ...opts,
  });

const api = spawn(process.execPath, [join(root, 'examples/quickstart/sample-api.mjs')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve, reject) => {
  api.stdout.once('data', (d) => {
    process.stdout.write(d);
    resolve();
  });
  api.once('exit', (code) => reject(new Error(`the sample API exited (${code}): is port 4010 free?`)));
});
let status = 1;
try {
  console.log('\n$ provisio run --dir examples/quickstart --state-dir .provisio/quickstart --once');
  status = cli(['run', '--dir', 'examples/quickstart', '--state-dir', stateDir, '--once'], {
    env: { ...process.env, PROVISIO_LOG_LEVEL: process.env.PROVISIO_LOG_LEVEL ?? 'warn' },
  }).status;
  console.log('\n$ provisio cards employee --limit 10');
  cli(['cards', 'employee', '--state-dir', stateDir, '--limit', '10']);
  console.log('\n$ provisio get tasks --dir examples/quickstart');
  cli(['get', 'tasks', '--dir', 'examples/quickstart', '--state-dir', stateDir]);
} finally {
  api.kill();
}
process.exit(status ?? 1);
