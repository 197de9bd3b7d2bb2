/**
 * The scheduled-task extract of a script connector (seed 003): runs the customer's script with the seeds'
 * argument set in a fresh working directory, waits for it while watching its heartbeat and time limit,
 * then streams the rows of the output file it wrote into the engine.
 *
 * Failures never look like an empty source: a script that exits non-zero, writes its error file, is stopped,
 * or leaves no output file fails the run (no card is marked deleted). The output is read only after the
 * script ended well, so a half-written file is never loaded.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFailure } from '../../model/errors.js';
import type { ExtractContext, ExtractedRecord, Extraction, ExtractOutcome } from '../types.js';
import { ExtractError } from '../types.js';
import { extractionAttributes, heartbeatTimeout, interpreterOf, runTimeout, scriptBlock } from './config.js';
import { locateScript, ScriptNotFound } from './locate.js';
import { LogForwarder, readErrorFile } from './logs.js';
import { OutputError, type OutputStats, readOutputRows } from './output.js';
import { runScriptProcess, type ScriptProcessResult } from './process.js';
import { parametersSecret } from './secrets.js';
import {
  ARGS_ENV,
  openWorkspace,
  PARAMETERS_FILE_ENV,
  scriptEnv,
  type Workspace,
  writeParametersFile,
} from './workspace.js';

export interface ScriptRuntimeOptions {
  /** Between SIGTERM and SIGKILL when a script is stopped (default 10 s). */
  graceMs?: number;
  /** How often the script's log file is copied into the run's log while it runs (default 1 s). */
  logPollMs?: number;
  /** Filled while the output file is read (tests, the benchmark). */
  outputStats?: OutputStats;
}

/** The files of the argument set, inside the run's working directory. */
export const RUN_FILES = {
  output: 'output.json',
  error: 'error.txt',
  heartbeat: 'heartbeat.txt',
  log: 'script.log',
} as const;

const PROGRESS_EVERY = 1000;

export function extractScript(ctx: ExtractContext, options: ScriptRuntimeOptions = {}): Extraction {
  const outcome: ExtractOutcome = { complete: true };
  return { [Symbol.asyncIterator]: () => run(ctx, options), outcome: () => outcome };
}

async function* run(ctx: ExtractContext, options: ScriptRuntimeOptions): AsyncGenerator<ExtractedRecord> {
  const block = scriptBlock(ctx.connector);
  let script: string;
  try {
    script = locateScript(block, ctx.connectorFile);
  } catch (e) {
    if (e instanceof ScriptNotFound) throw new ExtractError(e.message);
    throw e;
  }
  const ws = await openWorkspace(block, parametersSecret(ctx));
  try {
    const files = await startScript(ctx, ws, script, options);
    yield* rows(ctx, ws, files.output, options.outputStats);
  } finally {
    await ws.remove();
  }
}

async function startScript(
  ctx: ExtractContext,
  ws: Workspace,
  script: string,
  options: ScriptRuntimeOptions,
): Promise<{ output: string }> {
  const block = scriptBlock(ctx.connector);
  const file = (name: string) => join(ws.dir, name);
  const argumentSet = {
    data_extraction_attributes: extractionAttributes(ctx.task),
    script_current_working_directory: ws.dir,
    error_filename: file(RUN_FILES.error),
    expected_output_filename: file(RUN_FILES.output),
    heartbeat_filename: file(RUN_FILES.heartbeat),
    log_filename: file(RUN_FILES.log),
    task_arguments: ctx.task.spec.source?.script?.arguments ?? {},
  };
  const args = JSON.stringify(argumentSet);
  const parametersFile = await writeParametersFile(ws);
  const timeout = runTimeout(block);
  const heartbeat = heartbeatTimeout(block);
  ctx.log.info({ script, workingDirectory: ws.dir }, 'starting the script');
  const logs = new LogForwarder(file(RUN_FILES.log), ws.scrubber, ctx.log, options.logPollMs);
  const result = await runScriptProcess({
    command: interpreterOf(block),
    args: [script, args],
    cwd: ws.dir,
    env: scriptEnv(ws, { [ARGS_ENV]: args, [PARAMETERS_FILE_ENV]: parametersFile }),
    timeoutMs: timeout.ms,
    timeoutName: timeout.name,
    heartbeat: { file: file(RUN_FILES.heartbeat), timeoutMs: heartbeat.ms, name: heartbeat.name },
    signal: ctx.signal,
    graceMs: options.graceMs,
  })
    .catch((e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? `interpreter "${interpreterOf(block)}" not found on PATH` : e.message;
      throw new ExtractError(`the script could not be started: ${why}`);
    })
    .finally(() => logs.finish());
  await judge(ctx, ws, result, file(RUN_FILES.error));
  const output = file(RUN_FILES.output);
  if (!(await stat(output).catch(() => undefined))?.isFile()) {
    throw new ExtractError(
      'the script ended without writing its output file (expected_output_filename); a run without output ' +
        'fails rather than count as 0 records, which would mark every card deleted',
    );
  }
  return { output };
}

/** How the script ended, as the run's failure when it did not end well. */
async function judge(ctx: ExtractContext, ws: Workspace, r: ScriptProcessResult, errorFile: string): Promise<void> {
  const scrub = (s: string) => ws.scrubber.scrub(s);
  if (r.stopped !== undefined) {
    ctx.log.warn({ reason: r.stopped }, 'the script was stopped');
    if (r.stoppedBy === 'signal') {
      const timedOut = ctx.signal.reason instanceof Error && ctx.signal.reason.name === 'TimeoutError';
      throw timedOut
        ? new RunFailure('the run exceeded its timeout and was stopped', 'TimedOut')
        : new RunFailure('the run was stopped on request', 'Stopped');
    }
    const reason = r.stoppedBy === 'heartbeat' ? 'ExtractFailed' : 'TimedOut';
    throw new RunFailure(`the script was stopped: ${r.stopped}`, reason);
  }
  const errorText = await readErrorFile(errorFile);
  if (r.code !== 0) {
    const how = r.code === null ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
    const why =
      errorText ||
      r.stderrTail
        .filter((l) => l.trim() !== '')
        .slice(-5)
        .join('\n');
    throw new ExtractError(`the script ${how}${why ? `: ${scrub(why)}` : ' and wrote nothing to stderr'}`);
  }
  if (errorText) throw new ExtractError(`the script reported an error (error_filename): ${scrub(errorText)}`);
}

async function* rows(
  ctx: ExtractContext,
  ws: Workspace,
  output: string,
  stats: OutputStats | undefined,
): AsyncGenerator<ExtractedRecord> {
  let records = 0;
  try {
    for await (const row of readOutputRows(output, stats)) {
      records++;
      yield toRecord(row.value as Record<string, unknown>);
      if (records % PROGRESS_EVERY === 0) ctx.progress({ records, apiCalls: 0 });
    }
  } catch (e) {
    if (e instanceof OutputError) {
      throw new ExtractError(`the script's output file is not valid: ${ws.scrubber.scrub(e.message)}`);
    }
    throw e;
  }
  ctx.progress({ records, apiCalls: 0 });
  ctx.log.info({ records }, 'script output read');
}

/** A row; `"@removed": true` or `"_op": "delete"` says the source removed it (a delete op). */
export function toRecord(row: Record<string, unknown>): ExtractedRecord {
  const removed = row['@removed'] === true || row['@removed'] === 'true' || row._op === 'delete';
  if (!removed && row._op === undefined && row['@removed'] === undefined) return { kind: 'generic', data: row };
  const { '@removed': _removed, _op, ...data } = row;
  return { kind: 'generic', op: removed ? 'delete' : 'upsert', data };
}
