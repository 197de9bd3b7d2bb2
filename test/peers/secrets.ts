/**
 * A throwaway secrets directory laid out as Kubernetes mounts Secrets (`<dir>/<name>/<key>`), with a
 * LocalSecretResolver over it that ignores the process environment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSecretResolver } from '../../src/secrets/resolver.js';

export interface SecretsDir {
  dir: string;
  resolver: LocalSecretResolver;
  /** Adds or replaces a secret's keys. */
  write(name: string, data: Record<string, string>): void;
  cleanup(): Promise<void>;
}

export async function createSecretsDir(secrets: Record<string, Record<string, string>> = {}): Promise<SecretsDir> {
  const dir = await mkdtemp(join(tmpdir(), 'provisio-secrets-'));
  const write = (name: string, data: Record<string, string>): void => {
    mkdirSync(join(dir, name), { recursive: true });
    for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, name, key), value);
  };
  for (const [name, data] of Object.entries(secrets)) write(name, data);
  return {
    dir,
    resolver: new LocalSecretResolver(dir, {}),
    write,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
