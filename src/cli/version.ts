/** The package's version, read from package.json (two levels above both src/cli/ and dist/cli/). */
import { readFileSync } from 'node:fs';
import { API_VERSION } from '../model/resources.js';
import { UsageError } from './errors.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export function versionCommand(output: string | undefined): void {
  const info = { provisio: VERSION, apiVersion: API_VERSION, node: process.version };
  if (output === 'json') console.log(JSON.stringify(info, null, 2));
  else if (!output) console.log(`provisio ${VERSION} (resources ${API_VERSION}, node ${process.version})`);
  else throw new UsageError(`version prints json or, by default, one line; not "${output}"`);
}
