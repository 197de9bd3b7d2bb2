/**
 * A stopped script takes its children with it: the whole process group gets SIGTERM, then SIGKILL, and
 * whatever a script that ended by itself left running is killed too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { processGone, type ScriptLab, scriptConnector, scriptLab, scriptTask } from './helpers.js';

let lab: ScriptLab;
beforeEach(async () => {
  lab = await scriptLab();
});
afterEach(() => lab.close());

/** Starts two sleeps and a Python child that starts a sleep of its own, writes all PIDs to `pids`, then `then`. */
const spawner = (pids: string, then: string) => `
import json, subprocess, sys, time
a = subprocess.Popen(['sleep', '600'])
b = subprocess.Popen(['sleep', '600'], stdout=subprocess.DEVNULL)
c = subprocess.Popen([sys.executable, '-c', 'import subprocess, sys, time; p = subprocess.Popen(["sleep", "600"]); print(p.pid, flush=True); time.sleep(600)'], stdout=subprocess.PIPE)
grandchild = int(c.stdout.readline())
with open(${JSON.stringify(pids)}, 'w') as f:
    json.dump([a.pid, b.pid, c.pid, grandchild], f)
${then}
`;

function pidsIn(file: string): number[] {
  return JSON.parse(readFileSync(file, 'utf8')) as number[];
}

describe('children of a script', () => {
  it('are all stopped when the script is stopped (provisio stop), grandchildren included', async () => {
    const pids = join(lab.evidence, 'pids.json');
    lab.script('spawn.py', spawner(pids, 'time.sleep(600)'));
    const stop = new AbortController();
    const running = lab.run(scriptConnector('spawn.py'), scriptTask(), stop.signal);
    // Stopped once every child is up (the PIDs file is written last).
    await vi.waitFor(() => expect(existsSync(pids)).toBe(true), { timeout: 10_000, interval: 20 });
    stop.abort();
    expect((await running).reason).toBe('Stopped');
    const all = pidsIn(pids);
    expect(all).toHaveLength(4);
    await vi.waitFor(() => expect(all.filter((p) => !processGone(p))).toEqual([]), { timeout: 3000, interval: 25 });
  });

  it('that a script leaves running when it exits are stopped with it', async () => {
    const pids = join(lab.evidence, 'pids.json');
    lab.script(
      'spawn.py',
      spawner(
        pids,
        `from common_subroutines_efecte_library import initialize_script
args = initialize_script()
with open(args['expected_output_filename'], 'w') as f:
    json.dump([{'id': '1'}], f)`,
      ),
    );
    const run = await lab.run(scriptConnector('spawn.py'), scriptTask());
    expect(run.reason).toBe('Succeeded');
    const all = pidsIn(pids);
    await vi.waitFor(() => expect(all.filter((p) => !processGone(p))).toEqual([]), { timeout: 3000, interval: 25 });
  });
});
