/**
 * Runs one script process: never through a shell (the interpreter and its arguments as an array), in a
 * process group of its own so that a stop reaches every child it started, with a time limit, an optional
 * heartbeat watch, and the caller's AbortSignal (`provisio stop`, the task's timeout). A stop sends SIGTERM
 * to the whole group, then SIGKILL after a grace period. When the script ends, whatever it left running in
 * its group is killed too: nothing of a run outlives it.
 *
 * Output is kept bounded: stdout up to a limit (the event response), stderr as its last lines (the failure
 * message).
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';

export interface HeartbeatWatch {
  file: string;
  timeoutMs: number;
  /** The setting's name and value for the failure message: `spec.script.heartbeatTimeout (5m)`. */
  name: string;
  /** How often the file's mtime is read (default: a fifth of the timeout, between 50 ms and 10 s). */
  pollMs?: number;
}

export interface ScriptProcessOptions {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is empty. */
  stdin?: string;
  timeoutMs: number;
  /** What the timeout is called in the failure message (`spec.script.timeout`, `spec.event.timeout`). */
  timeoutName: string;
  heartbeat?: HeartbeatWatch;
  signal: AbortSignal;
  /** Between SIGTERM and SIGKILL (default 10 s). */
  graceMs?: number;
  /** Most stdout characters kept (default 1 MiB); more is dropped and `stdoutTruncated` set. */
  maxStdout?: number;
  /** Stderr lines kept, the last ones (default 20). */
  stderrLines?: number;
}

export interface ScriptProcessResult {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why Provisio stopped the process, in words; undefined when it ended by itself. */
  stopped?: string;
  /** What stopped it: its time limit, its heartbeat watch, or the caller's signal. */
  stoppedBy?: StopCause;
  stdout: string;
  stdoutTruncated: boolean;
  stderrTail: string[];
  pid: number | undefined;
}

const DEFAULT_GRACE_MS = 10_000;

export type StopCause = 'timeout' | 'heartbeat' | 'signal';

/** Sends a signal to the process group led by `pid`; a group already gone is fine. */
function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Keeps the last `max` lines of a stream, however long it runs. */
class LineTail {
  private partial = '';
  readonly lines: string[] = [];
  constructor(private readonly max: number) {}
  push(text: string): void {
    const parts = (this.partial + text).split(/\r?\n/);
    this.partial = (parts.pop() ?? '').slice(-4096);
    for (const p of parts) this.add(p);
  }
  private add(line: string): void {
    this.lines.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  end(): string[] {
    if (this.partial !== '') this.add(this.partial);
    this.partial = '';
    return this.lines;
  }
}

export function runScriptProcess(o: ScriptProcessOptions): Promise<ScriptProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: o.env,
      shell: false,
      // A new process group (and session): a stop reaches the script's children too.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const maxStdout = o.maxStdout ?? 1024 * 1024;
    let stdout = '';
    let stdoutTruncated = false;
    const stderr = new LineTail(o.stderrLines ?? 20);
    let stopped: string | undefined;
    let stoppedBy: StopCause | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let beat: NodeJS.Timeout | undefined;

    const stop = (why: string, cause: StopCause) => {
      if (stopped !== undefined || child.pid === undefined) return;
      stopped = why;
      stoppedBy = cause;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(
        () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'),
        o.graceMs ?? DEFAULT_GRACE_MS,
      );
    };
    const onAbort = () => {
      const reason = o.signal.reason;
      const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
      stop(timedOut ? 'the run exceeded its timeout' : 'stopped on request', 'signal');
    };
    const timer = setTimeout(() => stop(`it ran longer than ${o.timeoutName}`, 'timeout'), o.timeoutMs);
    if (o.heartbeat) beat = watchHeartbeat(o.heartbeat, (why) => stop(why, 'heartbeat'));

    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (stdout.length >= maxStdout) {
        stdoutTruncated = true;
        return;
      }
      stdout += s.slice(0, maxStdout - stdout.length);
      if (stdout.length >= maxStdout) stdoutTruncated = true;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => stderr.push(s));
    // A script that exits without reading its stdin makes the write fail with EPIPE: not an error of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(o.stdin ?? '');

    child.once('error', (e) => {
      cleanup();
      reject(e);
    });
    // Children the script left behind (daemons, a hung subprocess) go with it; they may hold its stdout open,
    // so this is done when the script exits, and the result is given once the pipes closed.
    child.once('exit', () => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    });
    child.once('close', (code, signal) => {
      cleanup();
      resolve({
        code,
        signal,
        stopped,
        stoppedBy,
        stdout,
        stdoutTruncated,
        stderrTail: stderr.end(),
        pid: child.pid,
      });
    });
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener('abort', onAbort, { once: true });

    function cleanup() {
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearInterval(beat);
      o.signal.removeEventListener('abort', onAbort);
    }
  });
}

/**
 * Polls the heartbeat file's modification time. Polling (a stat every few seconds) rather than fs.watch:
 * watch events are not delivered on every filesystem a working directory may sit on (network and some
 * overlay filesystems), a script may replace the file instead of writing it, and the question is only
 * "was it touched within the last N minutes", which one stat answers exactly. The clock starts when the
 * script starts: a script that has not created the file yet has until then.
 */
function watchHeartbeat(h: HeartbeatWatch, stop: (why: string) => void): NodeJS.Timeout {
  const started = Date.now();
  const poll = h.pollMs ?? Math.min(10_000, Math.max(50, Math.floor(h.timeoutMs / 5)));
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    stat(h.file)
      .then(
        (s) => s.mtimeMs,
        () => started,
      )
      .then((mtime) => {
        const last = Math.max(mtime, started);
        if (Date.now() - last > h.timeoutMs) {
          stop(`it did not touch its heartbeat file within ${h.name}`);
        }
      })
      .finally(() => {
        checking = false;
      });
  }, poll);
  timer.unref();
  return timer;
}
