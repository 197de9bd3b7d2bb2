/**
 * The script connector as users run it: `provisio run --dir --once` on a folder holding the connector's YAML
 * and the seeds' example script (relative path resolved against the YAML file by the controller), and the
 * invoke endpoint of a running controller calling the seeds' event script.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, startRun } from '../../server/child.js';
import { fixture } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(script: string): { dir: string; state: string } {
  const root = mkdtempSync(join(tmpdir(), 'provisio-script-cli-'));
  dirs.push(root);
  const dir = join(root, 'deploy');
  mkdirSync(join(dir, 'hr', 'scripts'), { recursive: true });
  writeFileSync(join(dir, 'hr', 'scripts', 'custom.py'), script);
  writeFileSync(join(dir, 'hr', 'scripts', 'event.py'), fixture('seed_event.py'));
  writeFileSync(
    join(dir, 'hr', 'custom.yaml'),
    `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: custom, namespace: iga}
spec:
  type: script
  script:
    source: {path: scripts/custom.py}
    parameters: {host: https://hr.example.com}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: samples, namespace: iga}
spec:
  connectorRef: {name: custom}
  usage: scheduled
  schedule: {cron: "0 3 1 1 *"}
  source:
    script: {uniqueAttribute: id}
  mappings:
    generic:
      template: sample
      attributes:
        - {external: id, local: sample_id, unique: true}
        - {external: title, local: title}
---
apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: custom-event, namespace: iga}
spec:
  type: script
  script:
    source: {path: scripts/event.py}
    parameters: {host: https://hr.example.com}
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: update, namespace: iga}
spec:
  connectorRef: {name: custom-event}
  usage: event
  mappingsType: generic
  event: {timeout: 30s}
  mappings:
    generic:
      template: sample
      attributes:
        - {external: title, local: title}
`,
  );
  return { dir, state: join(root, 'state') };
}

describe('provisio run --dir with a script connector', () => {
  it("--once runs the seeds' example script found next to its YAML, and the cards are there", async () => {
    const { dir, state } = folder(fixture('seed_scheduled.py'));
    const r = await cli(['run', '--dir', dir, '--state-dir', state, '--once'], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/iga\/samples\s+Succeeded\s+10\s+Succeeded\s+10\s+0/);
    const cards = await cli(['cards', 'sample', '--state-dir', state, '-o', 'json']);
    const list = JSON.parse(cards.stdout) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(10);
    expect(list.map((c) => c.title)).toContain('this is a sample value for row = 3 , key = title');
  }, 90_000);

  it('--once exits 1 when the script fails, with its message', async () => {
    const { dir, state } = folder("raise SystemExit('the HR share is not mounted')\n");
    const r = await cli(['run', '--dir', dir, '--state-dir', state, '--once'], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('the script exited with code 1: the HR share is not mounted');
  }, 90_000);

  it('the invoke endpoint runs the event script: Completed, and an unknown activity is refused naming both', async () => {
    const { dir, state } = folder(fixture('seed_scheduled.py'));
    const controller = await startRun(['--dir', dir, '--state-dir', state], { PROVISIO_API_TOKENS: 'tok-1' });
    try {
      const invoke = (body: unknown) =>
        fetch(`${controller.url}/api/v1/namespaces/iga/tasks/update/invoke`, {
          method: 'POST',
          headers: { Authorization: 'Bearer tok-1', 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      const ok = await invoke({ activity: 'executeCustomBackendTask', data: { title: 'x' } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ state: 'Completed', response: null, exception: null });
      const bad = await invoke({ activity: 'restCall', input: {}, data: {} });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('this task supports runScript, executeCustomBackendTask, runTask');
    } finally {
      await controller.stop();
    }
  }, 90_000);
});
