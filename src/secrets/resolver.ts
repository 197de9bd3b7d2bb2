/**
 * Resolves secret references (DESIGN §1). Secrets are never inline in resources: in git mode they
 * come from a secrets directory laid out as Kubernetes mounts them (`<dir>/<name>/<key>`), or from
 * environment variables `PROVISIO_SECRET_<NAME>_<KEY>` (upper-cased, other characters as `_`).
 * Kubernetes mode implements the same interface over the Secrets API.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProvisioError } from '../model/errors.js';

export type SecretData = Record<string, string>;

/** Retryable: the secret may be created or synced later (a dependency not ready yet, the Flux way). */
export class SecretNotFoundError extends ProvisioError {
  constructor(
    readonly namespace: string,
    readonly secretName: string,
    readonly key?: string,
    /** Where it was looked for, in words (git mode: the secrets folder and the variables); default: the namespace. */
    readonly lookedIn?: string,
  ) {
    super(
      lookedIn
        ? key
          ? `secret "${secretName}" has no key "${key}" (looked in ${lookedIn})`
          : `secret "${secretName}" not found (looked in ${lookedIn})`
        : key
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
  /**
   * Where a secret of this name is looked for, in words, when that is not simply its namespace (git mode: the
   * secrets folder and the PROVISIO_SECRET_* variables); for the message of a missing secret or key.
   */
  lookedIn?(namespace: string, name: string): string;
}

/** The error for a secret or key that is not there, saying where the resolver looked. */
export const secretNotFound = (resolver: SecretResolver, namespace: string, name: string, key?: string) =>
  new SecretNotFoundError(namespace, name, key, resolver.lookedIn?.(namespace, name));

/** Reads one key, failing with a message that names the secret and key but never a value. */
export async function secretKey(
  resolver: SecretResolver,
  namespace: string,
  name: string,
  key: string,
): Promise<string> {
  const data = await resolver.get(namespace, name);
  const value = data[key];
  if (value === undefined) throw secretNotFound(resolver, namespace, name, key);
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
    if (Object.keys(data).length === 0) throw secretNotFound(this, namespace, name);
    return data;
  }

  /** "the secrets folder /srv/secrets/hr-api/ and the PROVISIO_SECRET_HR_API_* variables" */
  lookedIn(_namespace: string, name: string): string {
    const folder = this.dir
      ? `the secrets folder ${join(resolve(this.dir), name)}/`
      : 'no secrets folder (none is set: --secrets-dir or $PROVISIO_SECRETS_DIR)';
    return `${folder} and the PROVISIO_SECRET_${envName(name)}_* variables`;
  }

  async exists(_namespace: string, name: string): Promise<boolean> {
    return this.fromDir(name) !== undefined || this.fromEnv(name) !== undefined;
  }
}
