/**
 * `provisio test-connection CONNECTOR`: the connector type's connection check, as the seeds' "test
 * connection" button. Against a running controller (--server) the check runs there, with the secrets it
 * sees, and lands in the connector's status.connection too; with --dir it runs here, with --secrets-dir
 * or PROVISIO_SECRET_* variables. Exit 0 when the system answered as it should, 1 otherwise.
 */
import { builtInConnectorTypes, typeRules } from '../connectors/registry.js';
import { runConnectionCheck } from '../controller/connection-check.js';
import { silentLogger } from '../log/logger.js';
import { type Connector, DEFAULT_NAMESPACE, namespaceOf } from '../model/resources.js';
import { LocalSecretResolver } from '../secrets/resolver.js';
import { GitDirSource } from '../sources/gitdir/git-dir-source.js';
import { declaredFile, ResourceStore } from '../store/resource-store.js';
import { UsageError } from './errors.js';
import { ApiError, apiCall, notFoundMessage } from './resource-client.js';

export interface TestConnectionOptions {
  server?: string;
  dir?: string;
  secretsDir?: string;
  namespace?: string;
}

export async function testConnectionCommand(name: string, opts: TestConnectionOptions): Promise<number> {
  const server = opts.server ?? process.env.PROVISIO_SERVER;
  const result = server ? await viaController(server, name, opts) : await locally(name, opts);
  console.log(`Connector ${result.connector}: ${result.ok ? 'ok' : 'failed'}: ${result.message}`);
  return result.ok ? 0 : 1;
}

type Result = { connector: string; ok: boolean; message: string };

async function viaController(server: string, name: string, opts: TestConnectionOptions): Promise<Result> {
  const [ns, n] = name.includes('/') ? name.split('/', 2) : [opts.namespace ?? 'default', name];
  const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/connectors/${encodeURIComponent(n)}/test-connection`;
  return (await apiCall('POST', server, path)) as Result;
}

async function locally(name: string, opts: TestConnectionOptions): Promise<Result> {
  if (!opts.dir)
    throw new UsageError('give --dir PATH (the resource directory) or --server URL (a running controller)');
  const store = new ResourceStore();
  await new GitDirSource({ dir: opts.dir, store, types: typeRules, log: silentLogger }).load();
  const [ns, n] = name.includes('/') ? name.split('/', 2) : [opts.namespace ?? DEFAULT_NAMESPACE, name];
  const named = store.list<Connector>('Connector').filter((c) => c.declared.metadata.name === n);
  const matches = named.filter((c) => namespaceOf(c.declared) === ns);
  if (matches.length === 0) {
    throw new ApiError(
      404,
      notFoundMessage(
        'Connector',
        n,
        ns,
        named.map((c) => namespaceOf(c.declared)),
      ),
    );
  }
  const stored = matches[0];
  const connector = stored.effective;
  if (!connector) {
    throw new Error(`Connector ${stored.key} is invalid (${stored.errors[0]?.message ?? 'see provisio validate'})`);
  }
  const secrets = new LocalSecretResolver(opts.secretsDir ?? process.env.PROVISIO_SECRETS_DIR);
  const check = await runConnectionCheck(builtInConnectorTypes, connector, secrets, silentLogger, declaredFile(stored));
  return { connector: stored.key, ...check };
}
