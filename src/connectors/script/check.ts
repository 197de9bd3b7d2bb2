/**
 * The connection check of a script connector: there is no remote system to reach, so it checks what a run
 * needs of this machine: the script is where the connector says, and the interpreter finds and compiles it
 * (a syntax error shows here, not at 02:30 in the nightly run). Nothing of the script is run.
 */
import { basename } from 'node:path';
import type { ConnectionCheck, ConnectionContext } from '../types.js';
import { interpreterOf, scriptBlock } from './config.js';
import { locateScript, ScriptNotFound } from './locate.js';
import { runScriptProcess } from './process.js';
import { openWorkspace, scriptEnv } from './workspace.js';

const COMPILE =
  "import sys; compile(open(sys.argv[1], 'rb').read(), sys.argv[1], 'exec'); print(sys.version.split()[0])";

export async function checkScriptConnection(ctx: ConnectionContext): Promise<ConnectionCheck> {
  const block = scriptBlock(ctx.connector);
  let script: string;
  try {
    script = locateScript(block, ctx.connectorFile);
  } catch (e) {
    if (e instanceof ScriptNotFound) return { ok: false, message: e.message };
    throw e;
  }
  // No secrets are read: compiling does not need them.
  const ws = await openWorkspace({ ...block, parametersSecretRef: undefined }, async () => ({}));
  try {
    const r = await runScriptProcess({
      command: interpreterOf(block),
      args: ['-c', COMPILE, script],
      cwd: ws.dir,
      env: scriptEnv(ws),
      timeoutMs: 20_000,
      timeoutName: 'the connection check (20s)',
      signal: ctx.signal,
      graceMs: 1000,
    });
    if (r.code === 0) {
      return { ok: true, message: `script ${basename(script)} found; compiles with Python ${r.stdout.trim()}` };
    }
    const last = r.stderrTail
      .filter((l) => l.trim() !== '')
      .slice(-3)
      .join(' ');
    return {
      ok: false,
      message: `script ${basename(script)} does not compile: ${last || r.stopped || `exit ${r.code}`}`,
    };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      ok: false,
      message: err.code === 'ENOENT' ? `interpreter "${interpreterOf(block)}" not found on PATH` : err.message,
    };
  } finally {
    await ws.remove();
  }
}
