/**
 * Validate benchmark: `provisio validate` on 1,000 resources against the physical limit of the same input.
 *
 *   npm run bench:validate                      500 Connectors + 500 Tasks in 100 multi-document files
 *   npm run bench:validate -- --connectors 2000 --files 400
 *
 * Method (one run):
 * - A temp tree of realistic, valid resources is generated (bench/lib/resources.ts): REST (every auth and
 *   pagination style), Entra ID, SCIM, LDAP and M42 connectors with their scheduled and event tasks, ten
 *   namespaces, plus a secrets directory that holds every referenced secret (so: 0 errors, 0 warnings).
 * - Physical limit: reading the same files and parsing them with the yaml library alone (parseAllDocuments
 *   + toJS per document), in process, best of 3.
 * - In process: validatePaths([dir]) from src/validation/validate.ts, the first call (cold: schema compiling,
 *   JIT) and the best of 3 further calls; module import time is reported separately.
 * - What a user sees: `node --import tsx src/cli/main.ts validate DIR --secrets-dir S` as a child process,
 *   wall time from spawn to exit, first run and best of 3; beside it the same CLI on an empty directory (the
 *   start-up floor: Node, tsx and the CLI's imports). Peak RSS of the CLI comes from one extra run with a
 *   preload that reports process.resourceUsage().maxRSS on exit (the timed runs have no preload).
 * - Target: CLI wall time under 2 s for 1,000 resources. It prints PASS/MISS; the last line is JSON.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { intOption, RssSampler, round, table, verdict } from './lib/measure.js';
import { generateTree } from './lib/resources.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const TARGET_CLI_MS = 2000;
const REPEATS = 3;

interface CliRun {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

/** The limit: read + YAML-parse every file, nothing else. Answers the number of documents. */
function yamlOnly(files: readonly string[]): number {
  let docs = 0;
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      doc.toJS();
      docs++;
    }
  }
  return docs;
}

function timed<T>(fn: () => T): { ms: number; value: T } {
  const started = performance.now();
  const value = fn();
  return { ms: performance.now() - started, value };
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

async function main(): Promise<void> {
  const connectors = intOption('--connectors', 500);
  const fileCount = intOption('--files', 100);
  const root = mkdtempSync(join(tmpdir(), 'provisio-bench-validate-'));
  try {
    const tree = generateTree(root, connectors, fileCount);
    const resources = tree.connectors + tree.tasks;

    // In process. The module import comes first and is timed on its own.
    const imported = await timedAsync(() => import('../src/validation/validate.js'));
    const { validatePaths } = imported.value;
    const { LocalSecretResolver } = await import('../src/secrets/resolver.js');
    const { typeRules } = await import('../src/connectors/registry.js');
    const { expandPaths } = await import('../src/validation/documents.js');
    const files = expandPaths([tree.dir]);

    const rss = new RssSampler(20);
    const options = { types: typeRules, secrets: new LocalSecretResolver(tree.secretsDir) };
    const cold = await timedAsync(() => validatePaths([tree.dir], options));
    const warm: number[] = [];
    for (let i = 0; i < REPEATS; i++) warm.push((await timedAsync(() => validatePaths([tree.dir], options))).ms);
    const limits: number[] = [];
    let docs = 0;
    for (let i = 0; i < REPEATS; i++) {
      const t = timed(() => yamlOnly(files));
      limits.push(t.ms);
      docs = t.value;
    }
    const inProcessRss = rss.stop();

    const result = cold.value;
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
    if (result.resources.length !== resources || errors.length + warnings.length > 0) {
      console.error(`! expected ${resources} valid resources, got ${result.resources.length}:`);
      for (const d of result.diagnostics.slice(0, 10))
        console.error(`  ${d.file}:${d.line}:${d.col} ${d.field} ${d.message}`);
    }

    // The CLI as a user runs it.
    const cliArgs = ['src/cli/main.ts', 'validate', tree.dir, '--secrets-dir', tree.secretsDir];
    const emptyDir = join(root, 'empty');
    mkdirSync(emptyDir);
    const floorRuns: CliRun[] = [];
    const cliRuns: CliRun[] = [];
    process.stderr.write('running the CLI ...\n');
    for (let i = 0; i < REPEATS + 1; i++) {
      floorRuns.push(await runCli(['src/cli/main.ts', 'validate', emptyDir]));
      cliRuns.push(await runCli(cliArgs));
    }
    const marker = join(root, 'maxrss.txt');
    const withPreload = await runCli(['--import', join(HERE, 'lib', 'report-maxrss.ts'), ...cliArgs], {
      ...process.env,
      BENCH_MAXRSS_FILE: marker,
    });
    const cliMaxRssMb = withPreload.code === 0 ? round(Number(readFileSync(marker, 'utf8')) / 1024) : Number.NaN;
    const bad = cliRuns.find((r) => r.code !== 0);
    if (bad) console.error(`! the CLI exited with ${bad.code}:\n${bad.stdout}${bad.stderr}`);
    const cliSummary = cliRuns[0].stdout.trim().split('\n').pop() ?? '';

    const limit = Math.min(...limits);
    const best = Math.min(...warm);
    const cliFirst = cliRuns[0].ms;
    const cliBest = Math.min(...cliRuns.slice(1).map((r) => r.ms));
    const floorBest = Math.min(...floorRuns.slice(1).map((r) => r.ms));
    const perResource = (ms: number): string => `${round((ms * 1000) / resources, 0)} µs`;
    const rows: string[][] = [
      ['(a) read + YAML parse only (limit), best of 3', limit, 'in process'],
      ['(b) validatePaths, first call (cold)', cold.ms, 'in process'],
      ['(b) validatePaths, best of 3', best, 'in process'],
      ['(c) CLI validate, first run', cliFirst, 'child process'],
      ['(c) CLI validate, best of 3', cliBest, 'child process'],
      ['    CLI on an empty dir (start-up floor), best of 3', floorBest, 'child process'],
    ].map(([label, ms, where]) => [
      label as string,
      where as string,
      (ms as number).toFixed(0),
      ((ms as number) / limit).toFixed(2),
      perResource(ms as number),
    ]);

    const cpu = cpus();
    console.log(
      `\nProvisio validate benchmark — Node ${process.version}, ${cpu.length} cores (${cpu[0]?.model ?? '?'})\n` +
        `${resources} resources (${tree.connectors} Connectors + ${tree.tasks} Tasks, ${docs} documents) in ` +
        `${tree.files} files, ${round(tree.bytes / 1024, 0)} KB; CLI says: ${cliSummary}\n`,
    );
    console.log(table(['measurement', 'where', 'ms', 'ratio to (a)', 'per resource'], rows, 2));
    console.log(
      `\nimport of src/validation/validate.ts: ${imported.ms.toFixed(0)} ms; ` +
        `CLI work above its start-up floor: ${(cliBest - floorBest).toFixed(0)} ms`,
    );
    console.log(
      `peak RSS: in process ${Math.max(inProcessRss.peakMb, inProcessRss.maxRssMb)} MB ` +
        `(RSS ${inProcessRss.startMb} MB before the first call); CLI maxRSS ${cliMaxRssMb} MB`,
    );
    const targets = [
      {
        target: `CLI validate of ${resources} resources < ${TARGET_CLI_MS / 1000} s (first run)`,
        value: `${cliFirst.toFixed(0)} ms`,
        pass: cliFirst < TARGET_CLI_MS,
      },
      {
        target: `CLI validate of ${resources} resources < ${TARGET_CLI_MS / 1000} s (best of 3)`,
        value: `${cliBest.toFixed(0)} ms`,
        pass: cliBest < TARGET_CLI_MS,
      },
      {
        target: 'every generated resource valid (0 errors, 0 warnings)',
        value: `${result.resources.length} resources, ${errors.length} errors, ${warnings.length} warnings`,
        pass: result.resources.length === resources && errors.length + warnings.length === 0 && !bad,
      },
    ];
    console.log(
      `\n${table(
        ['target', 'measured', 'verdict'],
        targets.map((t) => [t.target, t.value, verdict(t.pass)]),
        2,
      )}`,
    );
    console.log(
      JSON.stringify({
        bench: 'validate',
        node: process.version,
        cores: cpu.length,
        resources,
        files: tree.files,
        documents: docs,
        bytes: tree.bytes,
        limitMs: round(limit, 0),
        validatePaths: { coldMs: round(cold.ms, 0), bestMs: round(best, 0), ratio: round(best / limit, 2) },
        importMs: round(imported.ms, 0),
        cli: {
          firstMs: round(cliFirst, 0),
          bestMs: round(cliBest, 0),
          ratio: round(cliBest / limit, 2),
          floorMs: round(floorBest, 0),
          maxRssMb: cliMaxRssMb,
        },
        inProcessPeakRssMb: Math.max(inProcessRss.peakMb, inProcessRss.maxRssMb),
        targets,
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
