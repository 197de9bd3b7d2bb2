/**
 * What `get` and `describe` add to their tables, as kubectl users expect: `-o wide|name|json|yaml|jsonpath=...`,
 * `get all`, `-w/--watch` (the table again whenever a resource changes) and `describe -o yaml|json`.
 */
import { JSONPath } from 'jsonpath-plus';
import type { ResourceView } from '../controller/status-view.js';
import type { Kind } from '../model/resources.js';
import { UsageError } from './errors.js';
import { describeCommand, getCommand } from './get-command.js';
import { render } from './output.js';
import { findResource, listResources, type SourceOptions } from './resource-client.js';
import { objectOf } from './resource-object.js';

export type GetFormat = { kind: 'table' | 'wide' | 'json' | 'yaml' | 'name' } | { kind: 'jsonpath'; template: string };

export function parseGetFormat(value: string): GetFormat {
  if (['table', 'wide', 'json', 'yaml', 'name'].includes(value)) return { kind: value as 'table' };
  const m = /^jsonpath=(.*)$/s.exec(value);
  if (m) return { kind: 'jsonpath', template: m[1] };
  throw new UsageError(`unknown output format "${value}": use table, wide, name, json, yaml or jsonpath=TEMPLATE`);
}

const KIND_OF = (what: string): Kind | 'all' | 'runs' | undefined =>
  /^(connectors?|conn)$/.test(what)
    ? 'Connector'
    : /^(tasks?|ptask)$/.test(what)
      ? 'Task'
      : what === 'all'
        ? 'all'
        : /^runs?$/.test(what)
          ? 'runs'
          : undefined;

export interface GetOptions extends SourceOptions {
  watch?: boolean;
  /** Milliseconds between looks at the resources while watching. */
  watchIntervalMs?: number;
}

export async function getVerb(what: string, name: string | undefined, fmt: GetFormat, opts: GetOptions) {
  const kind = KIND_OF(what);
  if (!kind) throw new UsageError(`unknown resource type "${what}": use connectors, tasks, runs or all`);
  if (kind === 'all' && name) throw new UsageError('get all lists every kind: give no NAME');
  const once = () => getOnce(kind, what, name, fmt, opts);
  if (!opts.watch) return once();
  if (kind === 'runs') throw new UsageError('--watch works with connectors, tasks and all');
  return watch(kind, name, opts, once);
}

async function getOnce(
  kind: Kind | 'all' | 'runs',
  what: string,
  name: string | undefined,
  fmt: GetFormat,
  opts: GetOptions,
) {
  if (kind === 'runs') {
    if (fmt.kind === 'json' || fmt.kind === 'yaml') return getCommand(what, name, fmt.kind, opts);
    if (fmt.kind !== 'table') throw new UsageError('get runs prints table, json or yaml');
    return getCommand(what, name, 'table', opts);
  }
  if (fmt.kind === 'table' || fmt.kind === 'wide') {
    const tableOpts = { ...opts, wide: fmt.kind === 'wide' };
    if (kind !== 'all') return getCommand(what, name, 'table', tableOpts);
    await getCommand('connectors', undefined, 'table', tableOpts);
    console.log('');
    return getCommand('tasks', undefined, 'table', tableOpts);
  }
  const kinds: Kind[] = kind === 'all' ? ['Connector', 'Task'] : [kind];
  const views: ResourceView[] = name
    ? [await findResource(kinds[0], name, opts)]
    : (await Promise.all(kinds.map((k) => listResources(k, opts)))).flat();
  printObjects(views, name !== undefined, fmt);
}

/** -o json|yaml|name|jsonpath of the objects `get` found (one object for a NAME, else a List). */
export function printObjects(views: ResourceView[], single: boolean, fmt: GetFormat): void {
  const objects = views.map(objectOf);
  if (fmt.kind === 'name') {
    for (const o of objects) console.log(`${o.kind.toLowerCase()}.provisio.dev/${o.metadata.name}`);
    return;
  }
  const value = single ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
  if (fmt.kind === 'jsonpath') {
    console.log(jsonpathTemplate(fmt.template, value));
    return;
  }
  console.log(render(fmt.kind === 'json' ? 'json' : 'yaml', value));
}

/**
 * kubectl's JSONPath template: text with `{.path}` expressions (`{.items[*].metadata.name}`, `{.status.phase}`);
 * several results of one expression are joined by spaces, objects printed as JSON. `{range}` is not supported.
 */
export function jsonpathTemplate(template: string, value: unknown): string {
  const expanded = template.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return expanded.replace(/\{([^{}]*)\}/g, (_, expr: string) => {
    const e = expr.trim();
    if (/^(range|end)\b/.test(e)) throw new UsageError(`jsonpath: {${e}} is not supported; use {.items[*].FIELD}`);
    const path =
      e === '' || e === '.' ? '$' : e.startsWith('$') ? e : `$${e.startsWith('.') || e.startsWith('[') ? '' : '.'}${e}`;
    const found = JSONPath({ path, json: value as object, wrap: true }) as unknown[];
    return found.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(' ');
  });
}

/** Prints once, then again (after a blank line) whenever what it shows changes, until interrupted. */
async function watch(kind: Kind | 'all', name: string | undefined, opts: GetOptions, print: () => Promise<void>) {
  const kinds: Kind[] = kind === 'all' ? ['Connector', 'Task'] : [kind];
  const look = async () => {
    const views = (await Promise.all(kinds.map((k) => listResources(k, opts)))).flat();
    const shown = name ? views.filter((v) => v.metadata.name === name) : views;
    return JSON.stringify(shown.map((v) => [v.metadata, v.spec, v.status]));
  };
  let last = await look();
  await print();
  for (;;) {
    await new Promise((r) => setTimeout(r, opts.watchIntervalMs ?? 1000));
    const now = await look();
    if (now === last) continue;
    last = now;
    console.log('');
    await print();
  }
}

/** `describe TYPE NAME -o yaml|json`: the object, as `get NAME -o yaml|json` prints it. */
export async function describeVerb(what: string, name: string, output: string | undefined, opts: SourceOptions) {
  if (!output) return describeCommand(what, name, opts);
  if (output !== 'yaml' && output !== 'json') throw new UsageError(`describe prints yaml or json, not "${output}"`);
  const kind = KIND_OF(what);
  if (kind !== 'Connector' && kind !== 'Task')
    throw new UsageError(`unknown resource type "${what}": use connector or task`);
  printObjects([await findResource(kind, name, opts)], true, { kind: output });
}
