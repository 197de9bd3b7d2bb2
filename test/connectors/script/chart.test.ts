/**
 * The chart's script mounts (charts/provisio, value scripts.configMaps), rendered by the real helm binary
 * offline: each ConfigMap read-only at /etc/provisio/scripts/<name>/, where locateScript looks for
 * configMapRef scripts, and a bad name refused by values.schema.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_SCRIPTS_DIR } from '../../../src/connectors/script/locate.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const helm = join(root, '.tools/bin/helm');
let work: string;

beforeAll(() => {
  if (!existsSync(helm)) {
    execFileSync(process.execPath, [join(root, 'scripts/fetch-helm.mjs')], { stdio: 'inherit', timeout: 240_000 });
  }
  work = mkdtempSync(join(tmpdir(), 'provisio-helm-scripts-'));
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function template(...set: string[]) {
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(work, 'cache'),
    HELM_CONFIG_HOME: join(work, 'config'),
    HELM_DATA_HOME: join(work, 'data'),
    KUBECONFIG: join(work, 'none'),
  };
  const args = ['template', 'provisio', join(root, 'charts/provisio'), ...set.flatMap((s) => ['--set', s])];
  return spawnSync(helm, args, { env, encoding: 'utf8', timeout: 60_000 });
}

describe('scripts.configMaps', () => {
  it('mounts each ConfigMap read-only where configMapRef scripts are looked for', () => {
    const r = template('scripts.configMaps={hr-scripts,roles}');
    expect(r.status, r.stderr).toBe(0);
    type Deployment = { kind: string; spec: { template: { spec: Record<string, Array<Record<string, unknown>>> } } };
    const deployment = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as Deployment | null)
      .find((o) => o?.kind === 'Deployment')!;
    const pod = deployment.spec.template.spec;
    const c = pod.containers[0] as Record<string, unknown>;
    expect(c.env).toContainEqual({ name: 'PROVISIO_SCRIPTS_DIR', value: DEFAULT_SCRIPTS_DIR });
    expect(c.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'scripts-0', mountPath: `${DEFAULT_SCRIPTS_DIR}/hr-scripts`, readOnly: true },
        { name: 'scripts-1', mountPath: `${DEFAULT_SCRIPTS_DIR}/roles`, readOnly: true },
      ]),
    );
    expect(pod.volumes).toEqual(
      expect.arrayContaining([
        { name: 'scripts-0', configMap: { name: 'hr-scripts', defaultMode: 0o444 } },
        { name: 'scripts-1', configMap: { name: 'roles', defaultMode: 0o444 } },
      ]),
    );
  });

  it('mounts nothing by default, and refuses a name that is not a ConfigMap name', () => {
    const plain = template();
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).not.toContain('/etc/provisio/scripts');
    const bad = template('scripts.configMaps={Bad_Name}');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("at '/scripts/configMaps/0': 'Bad_Name' does not match pattern");
  });
});
