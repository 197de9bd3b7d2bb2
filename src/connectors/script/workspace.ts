/**
 * What one script process gets around it: a fresh working directory of its own (removed afterwards), the
 * connector parameters with the secret's keys merged in, the scrubber that knows those secret values, and an
 * environment limited to what a script needs.
 *
 * Secrets never go on the command line (visible in `ps` to every user of the machine) or into logs: a
 * scheduled script reads them through the helper module from a file in its working directory that only its
 * user can read (0600, in a 0700 directory); an event script gets them on stdin, as the seeds' contract says.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecretScrubber } from '../../transport/scrub.js';
import type { ScriptBlock } from './config.js';

/** The helper modules Provisio ships (common_subroutines_efecte_library, system_info_efecte_library). */
export const HELPER_DIR = fileURLToPath(new URL('../../../python/', import.meta.url));

export const PARAMETERS_FILE_ENV = 'PROVISIO_SCRIPT_PARAMETERS_FILE';
export const ARGS_ENV = 'PROVISIO_SCRIPT_ARGS';

export interface Workspace {
  dir: string;
  scrubber: SecretScrubber;
  parameters: Record<string, unknown>;
  remove(): Promise<void>;
}

/** The keys of parametersSecretRef, or {} when the connector names none. */
export type SecretsSource = (block: ScriptBlock) => Promise<Record<string, string>>;

export async function openWorkspace(block: ScriptBlock, secrets: SecretsSource): Promise<Workspace> {
  const secret = await secrets(block);
  const scrubber = new SecretScrubber();
  for (const value of Object.values(secret)) scrubber.add(value);
  const dir = await mkdtemp(join(tmpdir(), 'provisio-script-'));
  return {
    dir,
    scrubber,
    parameters: { ...(block.parameters ?? {}), ...secret },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Writes the parameters (secrets included) where the helper module reads them; readable by the script's user only. */
export async function writeParametersFile(ws: Workspace): Promise<string> {
  const file = join(ws.dir, '.provisio-parameters.json');
  await writeFile(file, JSON.stringify(ws.parameters), { mode: 0o600 });
  return file;
}

/**
 * The script's environment: PATH to find programs, HOME and TMPDIR in its working directory, the helper
 * modules on PYTHONPATH, UTF-8 I/O, and what `extra` adds. Nothing else of the controller's environment (API
 * tokens, the Redis URL, cloud credentials) reaches the script.
 */
export function scriptEnv(ws: Workspace, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: ws.dir,
    TMPDIR: ws.dir,
    LANG: process.env.LANG || 'C.UTF-8',
    PYTHONPATH: HELPER_DIR,
    PYTHONIOENCODING: 'utf-8',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}
