/** `provisio validate PATH...`: exit 1 on any error; findings as file:line:col  field  message. */
import { typeRules } from '../connectors/registry.js';
import { LocalSecretResolver } from '../secrets/resolver.js';
import { type Diagnostic, formatDiagnostic } from '../validation/diagnostics.js';
import { validatePaths } from '../validation/validate.js';
import type { OutputFormat } from './output.js';

export interface ValidateCommandOptions {
  output: OutputFormat;
  secretsDir?: string;
}

export async function validateCommand(paths: string[], opts: ValidateCommandOptions): Promise<number> {
  const started = performance.now();
  const secrets = new LocalSecretResolver(opts.secretsDir ?? process.env.PROVISIO_SECRETS_DIR);
  // A file or folder may hold only Tasks whose Connectors live elsewhere (an exported Task, a tasks/ folder).
  const result = await validatePaths(paths, { types: typeRules, secrets, partial: true });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
  if (opts.output === 'table') {
    for (const d of result.diagnostics) console.log(formatDiagnostic(d));
    const ms = Math.round(performance.now() - started);
    const summary = `${result.resources.length} resources in ${result.files} files: ${errors.length} errors, ${warnings.length} warnings (${ms} ms)`;
    (errors.length > 0 ? console.error : console.log)(summary);
  } else {
    const body = {
      ok: errors.length === 0,
      files: result.files,
      resources: result.resources.map((r) => ({
        kind: r.kind,
        namespace: r.resource.metadata.namespace ?? 'default',
        name: r.resource.metadata.name,
        file: r.origin.file,
        valid: r.errors.length === 0,
      })),
      errors: errors.map(plain),
      warnings: warnings.map(plain),
    };
    console.log(opts.output === 'json' ? JSON.stringify(body, null, 2) : (await import('yaml')).stringify(body));
  }
  return errors.length > 0 ? 1 : 0;
}

const plain = (d: Diagnostic) => ({
  file: d.file,
  line: d.line,
  col: d.col,
  field: d.field,
  message: d.message,
  ...(d.resource ? { resource: d.resource } : {}),
});
