/**
 * The "Execute Custom Backend Task" workflow node (activity `runScript`, also `executeCustomBackendTask`):
 * the connector's script gets exactly two lines on stdin, the connector parameters JSON (secret keys
 * included) and the task mappings JSON (each mapped external attribute with the invocation's value of its
 * local attribute). Exit 0 is `Completed` with stdout as the response (JSON when it parses); anything else
 * is an `Exception` with the script's error message; `spec.event.timeout` stops the script (its whole
 * process group). Concurrency is the invocation service's (`spec.event.maxConcurrency`).
 */
import type { ActionContext, ActionHandler, ActionResult, InvokeData } from '../types.js';
import { eventTimeout, interpreterOf, mappingOf, scriptBlock } from './config.js';
import { locateScript, ScriptNotFound } from './locate.js';
import { runScriptProcess, type ScriptProcessResult } from './process.js';
import { parametersSecret } from './secrets.js';
import { openWorkspace, scriptEnv, type Workspace } from './workspace.js';

export interface ScriptActionOptions {
  graceMs?: number;
}

const exception = (text: string, response: unknown = null): ActionResult => ({
  state: 'Exception',
  response,
  exception: text,
});

/** The mapped attributes by external name, with the invocation's values of their local attributes. */
export function taskMappings(ctx: ActionContext, data: InvokeData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of mappingOf(ctx.task)?.attributes ?? []) {
    if (data[a.local] !== undefined) out[a.external] = data[a.local];
  }
  return out;
}

/**
 * The message of a failed script: the error of a Python traceback without its type (`ValueError: x` → `x`,
 * as the workflow's provisioning exception shows it), else the last line the script wrote to stderr.
 */
export function exceptionText(stderrTail: readonly string[]): string | undefined {
  const lines = stderrTail.map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  // The tail may have lost the traceback's first line (a long chained traceback): its frames tell it too.
  const traceback = lines.some(
    (l) => l.startsWith('Traceback (most recent call last)') || /^\s+File ".*", line \d+/.test(l),
  );
  if (!traceback) return last;
  const m = /^[A-Za-z_][\w.]*: (.+)$/.exec(last);
  return m ? m[1] : last;
}

function responseOf(stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function outcome(r: ScriptProcessResult, ws: Workspace): ActionResult {
  const scrub = (s: string) => ws.scrubber.scrub(s);
  const response = responseOf(scrub(r.stdout));
  if (r.stopped !== undefined) {
    const why = r.stoppedBy === 'signal' ? 'the call was cancelled' : `the script was stopped: ${r.stopped}`;
    return exception(why, response);
  }
  if (r.code === 0) return { state: 'Completed', response, exception: null };
  const text = exceptionText(r.stderrTail);
  const how = r.code === null ? `the script was killed by ${r.signal}` : `the script exited with code ${r.code}`;
  return exception(text ? scrub(text) : how, response);
}

export function runScriptAction(options: ScriptActionOptions = {}): ActionHandler {
  return async (ctx, _input, data) => {
    const block = scriptBlock(ctx.connector);
    let script: string;
    try {
      script = locateScript(block, ctx.connectorFile);
    } catch (e) {
      if (e instanceof ScriptNotFound) return exception(e.message);
      throw e;
    }
    let ws: Workspace;
    try {
      ws = await openWorkspace(block, parametersSecret(ctx));
    } catch (e) {
      return exception((e as Error).message);
    }
    try {
      const timeout = eventTimeout(ctx.task);
      const stdin = `${JSON.stringify(ws.parameters)}\n${JSON.stringify(taskMappings(ctx, data))}\n`;
      const result = await runScriptProcess({
        command: interpreterOf(block),
        args: [script],
        cwd: ws.dir,
        env: scriptEnv(ws),
        stdin,
        timeoutMs: timeout.ms,
        timeoutName: timeout.name,
        signal: ctx.signal,
        graceMs: options.graceMs,
      });
      const answer = outcome(result, ws);
      if (answer.state === 'Exception')
        ctx.log.info({ exception: answer.exception }, 'the script ended in an Exception');
      return answer;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return exception(
        err.code === 'ENOENT'
          ? `interpreter "${interpreterOf(block)}" not found on PATH`
          : ws.scrubber.scrub(err.message),
      );
    } finally {
      await ws.remove();
    }
  };
}
