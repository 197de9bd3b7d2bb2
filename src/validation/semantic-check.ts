/**
 * Checks that need more than one resource or more than the schema can say: references between
 * resources, what a connector type supports (and the type's own rules, through TypeRules), cron
 * expressions, mapping paths, script files and secret references.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Cron } from 'croner';
import { PathError, parsePath } from '../model/mapping-path.js';
import type { Connector, Task } from '../model/resources.js';
import { keyOf, namespaceOf, refKey } from '../model/resources.js';
import type { SecretResolver } from '../secrets/resolver.js';
import { closest, type PathSegment } from './diagnostics.js';
import type { ConnectorTypeRules, TypeRuleFinding, TypeRules } from './type-rules.js';

export interface CheckedResource {
  kind: 'Connector' | 'Task';
  resource: Connector | Task;
  /** The file the resource came from, on disk (for relative script paths). */
  file: string;
  /** Where it is declared, as findings print it: file:line. */
  where: string;
  /** Whether the schema accepted it; semantic checks skip what would only repeat schema errors. */
  schemaValid: boolean;
}

export interface SemanticFinding {
  resource: CheckedResource;
  path: PathSegment[];
  at?: 'value' | 'key';
  severity: 'error' | 'warning';
  message: string;
}

function cronProblem(cron: string, timeZone: string | undefined): string | undefined {
  if (timeZone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      return `unknown time zone "${timeZone}"; use an IANA name such as Europe/Helsinki or UTC`;
    }
  }
  try {
    const job = new Cron(cron, { timezone: timeZone, paused: true });
    const next = job.nextRun();
    job.stop();
    if (!next) return `cron "${cron}" never fires`;
  } catch (e) {
    return `invalid cron "${cron}": ${(e as Error).message.replace(/^CronPattern: /, '')}`;
  }
  return undefined;
}

type MappingsKey = 'identity' | 'access' | 'generic';

export async function checkSemantics(
  resources: readonly CheckedResource[],
  types: TypeRules,
  secrets: SecretResolver | undefined,
  /** Files that did not parse (file:line of their first error): a missing Connector may sit in one. */
  unparsed: readonly string[] = [],
  /**
   * The files checked may be a part of what gets applied (`provisio validate f.yaml` of one exported Task): when
   * they hold no Connector at all, a Task's connector is expected to exist where it is applied (a warning).
   */
  partial = false,
): Promise<SemanticFinding[]> {
  const out: SemanticFinding[] = [];
  const first = new Map<string, CheckedResource>();
  const connectors = new Map<string, CheckedResource>();
  const tasksOf = new Map<CheckedResource, CheckedResource[]>();

  for (const r of resources) {
    const id = `${r.kind} ${keyOf(r.resource)}`;
    const prev = first.get(id);
    if (prev) {
      out.push({
        resource: r,
        path: ['metadata', 'name'],
        severity: 'error',
        message: `duplicate ${r.kind} "${keyOf(r.resource)}": already defined at ${prev.where}`,
      });
      continue;
    }
    first.set(id, r);
    if (r.kind === 'Connector') connectors.set(keyOf(r.resource), r);
  }

  for (const r of resources) {
    if (r.kind === 'Connector') {
      await checkConnector(r, types, secrets, out);
      continue;
    }
    const task = r.resource as Task;
    const spec = task.spec;
    if (!spec || typeof spec !== 'object') continue;
    const ns = namespaceOf(task);
    const connectorName = spec.connectorRef?.name;
    const conn = typeof connectorName === 'string' ? connectors.get(refKey(ns, connectorName)) : undefined;
    if (typeof connectorName === 'string' && !conn && partial && connectors.size === 0 && unparsed.length === 0) {
      out.push({
        resource: r,
        path: ['spec', 'connectorRef', 'name'],
        severity: 'warning',
        message: `Connector "${connectorName}" is not in these files: it must exist in namespace "${ns}" where this Task is applied`,
      });
    } else if (typeof connectorName === 'string' && !conn) {
      const inNs = [...connectors.values()]
        .filter((c) => namespaceOf(c.resource) === ns)
        .map((c) => c.resource.metadata.name);
      const hint = closest(connectorName, inNs);
      out.push({
        resource: r,
        path: ['spec', 'connectorRef', 'name'],
        severity: 'error',
        message:
          `Connector "${connectorName}" not found in namespace "${ns}"${hint ? ` (did you mean "${hint}"?)` : ''}` +
          (unparsed.length > 0 ? `; it may be declared in a file that is not valid YAML: ${unparsed.join(', ')}` : ''),
      });
    }
    // The checks below read only fields they type-check themselves, so a schema error elsewhere in
    // the same document does not hide them.
    const connType = conn?.schemaValid ? types((conn.resource as Connector).spec.type) : undefined;
    if (conn && connType) {
      if (r.schemaValid) checkTaskAgainstConnector(r, conn.resource as Connector, connType, out);
      // The type's own rules read the task defensively, so they run on a task with schema errors too.
      if (connType.validateTask) typeFindings(r, connType.validateTask(task, conn.resource as Connector), out);
    }
    if (
      typeof spec.schedule?.cron === 'string' &&
      (spec.schedule.timeZone === undefined || typeof spec.schedule.timeZone === 'string')
    ) {
      const problem = cronProblem(spec.schedule.cron, spec.schedule.timeZone);
      if (problem) {
        const field = problem.startsWith('unknown time zone') ? 'timeZone' : 'cron';
        out.push({ resource: r, path: ['spec', 'schedule', field], severity: 'error', message: problem });
      }
    }
    checkMappings(r, out);
    if (conn && connType?.validateTaskSet && r.schemaValid) getOrAdd(tasksOf, conn).push(r);
    if (secrets && typeof spec.event?.password?.secretRef?.name === 'string') {
      await warnMissingSecret(
        r,
        secrets,
        spec.event.password.secretRef.name,
        ['spec', 'event', 'password', 'secretRef'],
        out,
      );
    }
  }
  for (const [conn, tasks] of tasksOf) checkTaskSet(conn, tasks, types, out);
  return out;
}

function getOrAdd<K, V>(map: Map<K, V[]>, key: K): V[] {
  const list = map.get(key) ?? [];
  map.set(key, list);
  return list;
}

/** The type's rules across all tasks of one connector, each finding reported on its task. */
function checkTaskSet(conn: CheckedResource, tasks: CheckedResource[], types: TypeRules, out: SemanticFinding[]): void {
  const connector = conn.resource as Connector;
  const rules = types(connector.spec.type);
  if (!rules?.validateTaskSet) return;
  const byTask = new Map(tasks.map((t) => [t.resource as Task, t]));
  for (const f of rules.validateTaskSet([...byTask.keys()], connector)) {
    const r = byTask.get(f.task);
    if (r) out.push({ resource: r, path: f.path, at: f.at, severity: f.severity, message: f.message });
  }
}

async function warnMissingSecret(
  r: CheckedResource,
  secrets: SecretResolver,
  name: string,
  path: PathSegment[],
  out: SemanticFinding[],
): Promise<void> {
  const ns = namespaceOf(r.resource);
  if (!(await secrets.exists(ns, name))) {
    out.push({
      resource: r,
      path: [...path, 'name'],
      severity: 'warning',
      message: `secret "${name}" cannot be resolved (no secrets-dir folder ${name}/ and no PROVISIO_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_* variables); runs will fail until it exists`,
    });
  }
}

function typeFindings(r: CheckedResource, findings: readonly TypeRuleFinding[], out: SemanticFinding[]): void {
  for (const f of findings) out.push({ resource: r, path: f.path, at: f.at, severity: f.severity, message: f.message });
}

async function checkConnector(
  r: CheckedResource,
  types: TypeRules,
  secrets: SecretResolver | undefined,
  out: SemanticFinding[],
) {
  const c = r.resource as Connector;
  const type = c.spec && typeof c.spec.type === 'string' ? types(c.spec.type) : undefined;
  if (!type) return;
  if (type.validateConnector) typeFindings(r, type.validateConnector(c), out);
  if (secrets) {
    for (const { ref, field } of type.secretRefs(c)) {
      if (typeof ref.name === 'string') await warnMissingSecret(r, secrets, ref.name, field, out);
    }
  }
  const path = c.spec.script?.source?.path;
  if (typeof path === 'string' && path !== '' && !existsSync(resolve(dirname(r.file), path))) {
    out.push({
      resource: r,
      path: ['spec', 'script', 'source', 'path'],
      severity: 'error',
      message: `script file "${path}" not found (paths are relative to the folder of ${r.where.replace(/:\d+$/, '')})`,
    });
  }
}

function checkTaskAgainstConnector(r: CheckedResource, c: Connector, type: ConnectorTypeRules, out: SemanticFinding[]) {
  const task = r.resource as Task;
  const spec = task.spec;
  const name = c.metadata.name;
  if (!type.usages.includes(spec.usage)) {
    out.push({
      resource: r,
      path: ['spec', 'usage'],
      severity: 'error',
      message: `Connector "${name}" is of type ${c.spec.type}, which supports ${type.usages.join(' and ')} tasks, not ${spec.usage}`,
    });
  }
  const block = spec.source ? Object.keys(spec.source)[0] : undefined;
  if (block && block !== c.spec.type) {
    out.push({
      resource: r,
      path: ['spec', 'source', block],
      at: 'key',
      severity: 'error',
      message: `source block "${block}" does not match Connector "${name}" of type ${c.spec.type}; use source.${c.spec.type}`,
    });
  }
  if (spec.fetch === 'incremental' && !type.incremental) {
    out.push({
      resource: r,
      path: ['spec', 'fetch'],
      severity: 'error',
      message: `Connector "${name}" is of type ${c.spec.type}, which cannot fetch incrementally; use fetch: full`,
    });
  }
  const mt = spec.mappingsType ?? 'generic';
  if (spec.usage === 'scheduled' && !type.mappingsTypes.includes(mt)) {
    out.push({
      resource: r,
      path: ['spec', 'mappingsType'],
      severity: 'error',
      message: `Connector "${name}" of type ${c.spec.type} loads ${type.mappingsTypes.join(' or ')} mappings, not ${mt}`,
    });
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function checkMappings(r: CheckedResource, out: SemanticFinding[]) {
  const spec = (r.resource as Task).spec;
  const blockName = isMap(spec.source) ? Object.keys(spec.source)[0] : undefined;
  const source = blockName ? (spec.source as Record<string, unknown>)[blockName] : undefined;
  const rawSubqueries = isMap(source) && Array.isArray(source.subqueries) ? source.subqueries : [];
  const subqueries = rawSubqueries.filter((s): s is string => typeof s === 'string');
  const uniqueAttribute =
    isMap(source) && typeof source.uniqueAttribute === 'string' ? source.uniqueAttribute : undefined;
  const generic = isMap(spec.mappings) && isMap(spec.mappings.generic) ? spec.mappings.generic : undefined;
  if (uniqueAttribute && blockName && generic && Array.isArray(generic.attributes)) {
    const externals = generic.attributes.filter(isMap).map((a) => a.external);
    if (!externals.includes(uniqueAttribute)) {
      out.push({
        resource: r,
        path: ['spec', 'source', blockName, 'uniqueAttribute'],
        severity: 'error',
        message: `uniqueAttribute "${uniqueAttribute}" is not mapped: add an attribute mapping with external: ${uniqueAttribute} (usually the one marked unique: true)`,
      });
    }
  }
  for (const key of ['identity', 'access', 'generic'] as MappingsKey[]) {
    const block = isMap(spec.mappings) ? spec.mappings[key] : undefined;
    if (!isMap(block) || !Array.isArray(block.attributes)) continue;
    const locals = new Map<string, number>();
    block.attributes.forEach((a, i) => {
      if (!isMap(a) || typeof a.external !== 'string' || typeof a.local !== 'string') return;
      const at: PathSegment[] = ['spec', 'mappings', key, 'attributes', i];
      try {
        parsePath(a.external, subqueries);
      } catch (e) {
        if (!(e instanceof PathError)) throw e;
        out.push({ resource: r, path: [...at, 'external'], severity: 'error', message: e.message });
      }
      const prev = locals.get(a.local);
      if (prev !== undefined) {
        out.push({
          resource: r,
          path: [...at, 'local'],
          severity: 'error',
          message: `local attribute "${a.local}" is already mapped by attributes[${prev}]`,
        });
      } else locals.set(a.local, i);
    });
    for (const [field, value] of [
      ['taskIdAttribute', block.taskIdAttribute],
      ['dataSourceTypeAttribute', block.dataSourceTypeAttribute],
    ] as const) {
      if (typeof value === 'string' && locals.has(value)) {
        out.push({
          resource: r,
          path: ['spec', 'mappings', key, field],
          severity: 'error',
          message: `"${value}" is also mapped from the source (attributes[${locals.get(value)}]); the ${field} needs an attribute of its own`,
        });
      }
    }
  }
}
