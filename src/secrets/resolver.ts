/**
 * Resolves secret references (DESIGN §1). Secrets are never inline in resources: in git mode they
 * come from a secrets directory laid out as Kubernetes mounts them (`<dir>/<name>/<key>`), or from
 * environment variables `PROVISIO_SECRET_<NAME>_<KEY>` (upper-cased, other characters as `_`).
 * Kubernetes mode implements the same interface over the Secrets API.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ProvisioError } from '../model/errors.js';

export type SecretData = Record<string, string>;

/** Retryable: the secret may be created or synced later (a dependency not ready yet, the Flux way). */
export class SecretNotFoundError extends ProvisioError {
  constructor(
    readonly namespace: string,
    readonly secretName: string,
    readonly key?: string,
  ) {
    super(
      key
        ? `secret "${secretName}" in namespace "${namespace}" has no key "${key}"`
        : `secret "${secretName}" not found in namespace "${namespace}"`,
      'SecretNotFound',
      true,
    );
  }
}

export interface SecretResolver {
  /** All keys of a secret; throws SecretNotFoundError when it does not exist. */
  get(namespace: string, name: string): Promise<SecretData>;
  /** Whether the secret exists (for validation warnings). */
  exists(namespace: string, name: string): Promise<boolean>;
}

/** Reads one key, failing with a message that names the secret and key but never a value. */
export async function secretKey(
  resolver: SecretResolver,
  namespace: string,
  name: string,
  key: string,
): Promise<string> {
  const data = await resolver.get(namespace, name);
  const value = data[key];
  if (value === undefined) throw new SecretNotFoundError(namespace, name, key);
  return value;
}

const envName = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');

export class LocalSecretResolver implements SecretResolver {
  constructor(
    private readonly dir: string | undefined,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private fromDir(name: string): SecretData | undefined {
    if (!this.dir) return undefined;
    const folder = join(this.dir, name);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) return undefined;
    const data: SecretData = {};
    for (const entry of readdirSync(folder)) {
      // Kubernetes mounts keys through ..data symlinks; skip those bookkeeping entries.
      if (entry.startsWith('.')) continue;
      const file = join(folder, entry);
      if (statSync(file).isFile()) data[entry] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    }
    return data;
  }

  private fromEnv(name: string): SecretData | undefined {
    const prefix = `PROVISIO_SECRET_${envName(name)}_`;
    const data: SecretData = {};
    let found = false;
    for (const [k, v] of Object.entries(this.env)) {
      if (k.startsWith(prefix) && v !== undefined) {
        found = true;
        // Keys are case-sensitive in secrets; env names are not. Keep a lower-case alias and the raw form.
        const raw = k.slice(prefix.length);
        data[raw] = v;
        data[raw.toLowerCase()] = v;
        data[raw.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
      }
    }
    return found ? data : undefined;
  }

  async get(namespace: string, name: string): Promise<SecretData> {
    const data = { ...this.fromEnv(name), ...this.fromDir(name) };
    if (Object.keys(data).length === 0) throw new SecretNotFoundError(namespace, name);
    return data;
  }

  async exists(_namespace: string, name: string): Promise<boolean> {
    return this.fromDir(name) !== undefined || this.fromEnv(name) !== undefined;
  }
}
