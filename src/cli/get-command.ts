/** `provisio get connectors|tasks|runs` and `provisio describe task NAME`. */
import { stringify } from 'yaml';
import type { ResourceView } from '../controller/status-view.js';
import type { Condition, TaskRunSummary } from '../model/resources.js';
import { UsageError } from './errors.js';
import { eventsSection } from './events-section.js';
import { age, type OutputFormat, render, table } from './output.js';
import { findResource, listResources, namespaceScope, type SourceOptions } from './resource-client.js';
import { objectOf } from './resource-object.js';
import { runDuration, runFailureReason } from './run-columns.js';

const ready = (v: ResourceView): Condition | undefined =>
  (v.status.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');

const when = (iso: unknown): string => (typeof iso === 'string' ? `${age(iso)} ago` : '-');
const until = (iso: unknown): string => {
  if (typeof iso !== 'string') return '-';
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  return s <= 0 ? 'now' : `in ${age(new Date(Date.now() - s * 1000).toISOString())}`;
};
const message = (v: ResourceView): string => {
  const r = ready(v);
  return r && r.status !== 'True' ? `${r.reason}: ${r.message}` : '';
};

function invocationsCell(inv: unknown): string {
  const i = inv as { total?: number; failed?: number; lastTime?: string } | undefined;
  if (!i?.total) return 'no calls yet';
  return `${i.total} calls, ${i.failed ?? 0} failed, last ${when(i.lastTime)}`;
}

function runResult(run: TaskRunSummary | undefined): string {
  if (!run) return '-';
  if (run.extract?.status === 'Succeeded' && run.load?.status === 'Succeeded') return 'Succeeded';
  if (run.extract?.status === 'Running' || run.load?.status === 'Running') return 'Running';
  return run.extract?.status !== 'Succeeded' ? `Extract${run.extract?.status}` : `Load${run.load?.status}`;
}

export async function getCommand(
  what: string,
  name: string | undefined,
  format: OutputFormat,
  opts: SourceOptions & { wide?: boolean },
) {
  const kind = /^(connectors?|conn)$/.test(what) ? 'Connector' : /^(tasks?|ptask)$/.test(what) ? 'Task' : undefined;
  if (what === 'runs' || what === 'run') return getRuns(name, format, opts);
  if (!kind) throw new UsageError(`unknown resource type "${what}": use connectors, tasks or runs`);
  const views = name ? [await findResource(kind, name, opts)] : await listResources(kind, opts);
  if (format !== 'table') {
    const objects = views.map(objectOf);
    console.log(render(format, name ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects }));
    return;
  }
  if (views.length === 0) {
    const ns = namespaceScope(opts);
    console.error(ns ? `No resources found in ${ns} namespace.` : 'No resources found.');
    return;
  }
  if (kind === 'Connector') {
    const rows = views.map((v) => [
      v.metadata.namespace,
      v.metadata.name,
      String(v.spec.type ?? ''),
      String(v.status.health ?? '-'),
      String(v.status.scheduledTasks ?? '-'),
      String(v.status.eventTasks ?? '-'),
      ready(v)?.status ?? 'Unknown',
      message(v),
    ]);
    const headers = ['NAMESPACE', 'NAME', 'TYPE', 'HEALTH', 'SCHEDULED', 'EVENT', 'READY', 'MESSAGE'];
    console.log(opts.wide ? table([...headers, ...WIDE], withWide(rows, views)) : table(headers, rows));
  } else {
    const rows = views.map((v) => {
      const run = v.status.lastRun as TaskRunSummary | undefined;
      return [
        v.metadata.namespace,
        v.metadata.name,
        String((v.spec.connectorRef as { name?: string })?.name ?? ''),
        String(v.spec.usage ?? ''),
        String(v.status.phase ?? '-'),
        // Extract and load apart, as the seeds' list shows them.
        run?.extract?.status ?? '-',
        run?.load?.status ?? '-',
        v.spec.usage === 'event' ? invocationsCell(v.status.invocations) : run ? when(run.startTime) : '-',
        until(v.status.nextRunTime),
        ready(v)?.status ?? 'Unknown',
        message(v),
      ];
    });
    const headers = [
      'NAMESPACE',
      'NAME',
      'CONNECTOR',
      'USAGE',
      'PHASE',
      'EXTRACT',
      'LOAD',
      'LAST RUN',
      'NEXT RUN',
      'READY',
      'MESSAGE',
    ];
    console.log(opts.wide ? table([...headers, ...WIDE], withWide(rows, views)) : table(headers, rows));
  }
}

/** -o wide: where each resource is declared and at which revision, and its labels. */
const WIDE = ['SOURCE', 'REVISION', 'LABELS'];
const withWide = (rows: string[][], views: ResourceView[]): string[][] =>
  rows.map((r, i) => {
    const v = views[i];
    const labels = Object.entries(v.metadata.labels ?? {}).map(([k, val]) => `${k}=${val}`);
    return [
      ...r,
      v.source ? `${v.source.file}:${v.source.line}` : '-',
      v.source?.revision?.slice(0, 12) ?? '-',
      labels.join(',') || '-',
    ];
  });

async function getRuns(task: string | undefined, format: OutputFormat, opts: SourceOptions) {
  if (!task) throw new UsageError('give the task: provisio get runs TASK');
  const v = await findResource('Task', task, opts);
  const runs = (v.status.history as TaskRunSummary[] | undefined) ?? [];
  if (format !== 'table') {
    console.log(render(format, runs));
    return;
  }
  const rows = runs.map((r) => [
    r.id ?? '',
    r.trigger ?? '',
    r.startTime ?? '',
    runDuration(r),
    r.extract?.status ?? '',
    String(r.extract?.records ?? 0),
    r.load?.status ?? '',
    String(r.load?.created ?? 0),
    String(r.load?.updated ?? 0),
    String(r.load?.unchanged ?? 0),
    String(r.load?.deleted ?? 0),
    String(r.load?.failed ?? 0),
    runFailureReason(r),
  ]);
  console.log(
    table(
      [
        'ID',
        'TRIGGER',
        'START',
        'DURATION',
        'EXTRACT',
        'RECORDS',
        'LOAD',
        'CREATED',
        'UPDATED',
        'UNCHANGED',
        'DELETED',
        'NOT LOADED',
        'REASON',
      ],
      rows,
    ),
  );
}

export async function describeCommand(what: string, name: string, opts: SourceOptions) {
  const kind = /^(connectors?|conn)$/.test(what) ? 'Connector' : /^(tasks?|ptask)$/.test(what) ? 'Task' : undefined;
  if (!kind) throw new UsageError(`unknown resource type "${what}": use connector or task`);
  const v = await findResource(kind, name, opts);
  const lines: string[] = [
    `Name:        ${v.metadata.name}`,
    `Namespace:   ${v.metadata.namespace}`,
    `Kind:        ${kind}`,
    `Generation:  ${v.metadata.generation}`,
  ];
  if (v.source)
    lines.push(
      `Source:      ${v.source.file}:${v.source.line}${v.source.revision ? ` @ ${v.source.revision.slice(0, 12)}` : ''}`,
    );
  lines.push('Spec:', indent(stringify(v.spec)));
  const { conditions, history, lastRun, ...rest } = v.status as Record<string, unknown>;
  lines.push('Status:', indent(stringify(rest)));
  lines.push('Conditions:');
  lines.push(
    indent(
      table(
        ['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'],
        ((conditions as Condition[]) ?? []).map((c) => [
          c.type,
          c.status,
          c.reason,
          when(c.lastTransitionTime),
          c.message,
        ]),
      ),
    ),
  );
  if (lastRun) lines.push('Last run:', indent(stringify(lastRun)));
  const h = (history as TaskRunSummary[] | undefined) ?? [];
  if (h.length > 0) {
    lines.push('History:');
    lines.push(
      indent(
        table(
          ['ID', 'TRIGGER', 'START', 'RESULT', 'RECORDS', 'CREATED', 'UPDATED', 'DELETED'],
          h.map((r) => [
            r.id ?? '',
            r.trigger ?? '',
            r.startTime ?? '',
            runResult(r),
            String(r.extract?.records ?? 0),
            String(r.load?.created ?? 0),
            String(r.load?.updated ?? 0),
            String(r.load?.deleted ?? 0),
          ]),
        ),
      ),
    );
  }
  if (v.findings) {
    lines.push('Findings:');
    for (const f of [...v.findings.errors, ...v.findings.warnings]) {
      lines.push(`  ${f.severity}: ${f.file}:${f.line}:${f.col}  ${f.field}  ${f.message}`);
    }
  }
  lines.push(...(await eventsSection(v, opts)));
  console.log(lines.join('\n'));
}

const indent = (text: string): string =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
