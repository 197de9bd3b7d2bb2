/**
 * The M42 type's own validation rules. The loop guard: the seeds warn that two instances can ping-pong
 * cards forever when one side's scheduled task reads back the cards its event task writes (a read loads
 * the local card, the local card's workflow calls the event task, which writes the remote card, which the
 * next read loads again). A scheduled and an event task of the same connector on the same remote template
 * loop unless the read excludes what the event task writes: a folder it does not write to, or a filter on
 * at least one attribute the event task does not write (the partner's status, say).
 */
import type { Connector, Task } from '../../model/resources.js';
import { wherePart } from '../../targets/m42/api/eql.js';
import type { TaskSetFinding, TypeFinding } from '../types.js';

export function validateM42Task(task: Task, _connector: Connector): TypeFinding[] {
  const filter = task.spec?.source?.m42?.filter;
  if (typeof filter === 'string' && /^\s*select\s/i.test(filter) && wherePart(filter) === undefined) {
    return [
      {
        path: ['spec', 'source', 'm42', 'filter'],
        severity: 'warning',
        message: 'this SELECT has no WHERE part: the task reads every card of the template',
      },
    ];
  }
  return [];
}

const attributesOf = (filter: string | undefined): Set<string> =>
  new Set([...(filter ?? '').matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)\$/g)].map((m) => m[1]));

export function m42LoopGuard(tasks: readonly Task[], _connector: Connector): TaskSetFinding[] {
  const out: TaskSetFinding[] = [];
  const reads = tasks.filter((t) => t.spec?.usage === 'scheduled' && t.spec.source?.m42);
  const writes = tasks.filter((t) => t.spec?.usage === 'event' && t.spec.source?.m42);
  for (const read of reads) {
    const r = read.spec.source!.m42!;
    for (const write of writes) {
      const w = write.spec.source!.m42!;
      if (r.templateCode !== w.templateCode) continue;
      if (r.folderCode && w.folderCode && r.folderCode !== w.folderCode) continue;
      const written = new Set((write.spec.mappings?.generic?.attributes ?? []).map((a) => a.external.split(/[.[]/)[0]));
      const filtered = attributesOf(wherePart(r.filter));
      if ([...filtered].some((code) => !written.has(code))) continue;
      out.push({
        task: read,
        path: ['spec', 'source', 'm42', 'filter'],
        severity: 'warning',
        message:
          `Task ${read.metadata.name} reads the remote template "${r.templateCode}" that event task ${write.metadata.name} writes, ` +
          'and nothing excludes the cards it writes: the two instances can update each other in an endless loop. ' +
          "Filter on an attribute the event task does not write (such as the partner's status), or read another folder",
      });
    }
  }
  return out;
}
