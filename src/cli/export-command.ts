/**
 * `provisio export [--dir D | --server URL] [-n NS | -A]`: the Connectors and Tasks as a multi-document YAML bundle
 * that `provisio validate` accepts and `provisio run --dir` / `kubectl apply -f` apply as they are (the seeds'
 * export from test to prod): declared specs only, no status, no secrets (specs hold only secretRef names).
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ResourceView } from '../controller/status-view.js';
import { formatDiagnostic } from '../validation/diagnostics.js';
import { listResources, type SourceOptions } from './resource-client.js';
import { exportedOf, type KubeObject } from './resource-object.js';

/** Returns the exit code: 1 when a resource was left out because it does not validate. */
export async function exportCommand(opts: SourceOptions): Promise<number> {
  const views = [...(await listResources('Connector', opts)), ...(await listResources('Task', opts))];
  const valid: ResourceView[] = [];
  let skipped = 0;
  for (const v of views) {
    const errors = v.findings?.errors ?? [];
    if (errors.length === 0) {
      valid.push(v);
      continue;
    }
    skipped++;
    console.error(`left out ${v.kind} ${v.metadata.namespace}/${v.metadata.name}: it does not validate`);
    for (const d of errors) console.error(`  ${formatDiagnostic(d)}`);
  }
  if (valid.length === 0 && skipped === 0) console.error('No resources found.');
  const docs = valid.map((v) => stringify(portable(exportedOf(v), v, opts), { lineWidth: 0 }));
  if (docs.length > 0) process.stdout.write(`---\n${docs.join('---\n')}`);
  return skipped > 0 ? 1 : 0;
}

/**
 * A script connector's relative `source.path` is relative to the folder of the file that declared it; in the bundle
 * it is made relative to the working directory, where `provisio export > bundle.yaml` writes the bundle. Read from a
 * server, the declaring file is on another machine: the path stays as it is.
 */
function portable(obj: KubeObject, v: ResourceView, opts: SourceOptions): KubeObject {
  const source = (obj.spec.script as { source?: { path?: unknown } } | undefined)?.source;
  if (!opts.dir || !v.source || typeof source?.path !== 'string' || isAbsolute(source.path)) return obj;
  const path = relative(process.cwd(), resolve(dirname(v.source.file), source.path));
  const script = { ...(obj.spec.script as object), source: { ...source, path } };
  return { ...obj, spec: { ...obj.spec, script } };
}
