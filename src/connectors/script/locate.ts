/**
 * Where a connector's script is on disk.
 *
 * - git mode, `source.path`: relative to the folder of the YAML file that declares the connector, and it must
 *   stay inside that folder (symbolic links resolved): a resource can run only the scripts committed next to
 *   it, never `../../etc/something`.
 * - Kubernetes mode, `source.configMapRef {name, key}`: the ConfigMap is mounted into the controller's pod
 *   (the chart's `scripts.configMaps`) at `<scripts dir>/<name>/`, one file per key, as Kubernetes mounts
 *   ConfigMaps; the scripts dir is `PROVISIO_SCRIPTS_DIR` (default /etc/provisio/scripts).
 */
import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { ScriptBlock } from './config.js';

export const DEFAULT_SCRIPTS_DIR = '/etc/provisio/scripts';
export const SCRIPTS_DIR_ENV = 'PROVISIO_SCRIPTS_DIR';

export class ScriptNotFound extends Error {}

/** A ConfigMap key as Kubernetes allows it (and so never a path). */
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

export const scriptsDir = (env: NodeJS.ProcessEnv = process.env): string => env[SCRIPTS_DIR_ENV] || DEFAULT_SCRIPTS_DIR;

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function existingFile(path: string, what: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new ScriptNotFound(`${what} not found`);
  }
  if (!statSync(real).isFile()) throw new ScriptNotFound(`${what} is not a file`);
  return real;
}

/** The script's absolute path; throws ScriptNotFound with a message that says what to fix. */
export function locateScript(block: ScriptBlock, connectorFile: string | undefined, env = process.env): string {
  const { path, configMapRef } = block.source ?? {};
  if (configMapRef) {
    if (!CONFIGMAP_KEY.test(configMapRef.key) || configMapRef.key === '..' || configMapRef.key === '.') {
      throw new ScriptNotFound(`spec.script.source.configMapRef.key "${configMapRef.key}" is not a ConfigMap key`);
    }
    const root = scriptsDir(env);
    const file = join(root, configMapRef.name, configMapRef.key);
    return existingFile(
      file,
      `script of ConfigMap ${configMapRef.name} key ${configMapRef.key} (expected at ${file}: mount the ConfigMap ` +
        `there, chart value scripts.configMaps)`,
    );
  }
  if (!path) throw new ScriptNotFound('spec.script.source needs path or configMapRef');
  if (!connectorFile) {
    throw new ScriptNotFound(
      `spec.script.source.path "${path}" needs git-directory mode (a path relative to the connector's file); ` +
        'in Kubernetes mode use source.configMapRef',
    );
  }
  const folder = dirname(resolve(connectorFile));
  const real = existingFile(resolve(folder, path), `script file "${path}" (relative to ${folder})`);
  if (!inside(realpathSync(folder), real)) {
    throw new ScriptNotFound(
      `script file "${path}" is outside the folder of the connector's file (${folder}); keep scripts next to ` +
        'the resources that run them',
    );
  }
  return real;
}
