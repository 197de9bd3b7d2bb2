/** The Events section of `provisio describe`, as kubectl prints it: from the controller, or the state directory. */
import { resolve } from 'node:path';
import type { ResourceView } from '../controller/status-view.js';
import { FileEvents, type ResourceEvent } from '../state/file-events.js';
import { age, table } from './output.js';
import { apiCall, type SourceOptions } from './resource-client.js';

const PLURAL = { Connector: 'connectors', Task: 'tasks' } as const;

export async function eventsSection(v: ResourceView, opts: SourceOptions): Promise<string[]> {
  const server = opts.server ?? process.env.PROVISIO_SERVER;
  const key = `${v.metadata.namespace}/${v.metadata.name}`;
  const events: ResourceEvent[] = server
    ? ((
        (await apiCall(
          'GET',
          server,
          `/api/v1/namespaces/${encodeURIComponent(v.metadata.namespace)}/${PLURAL[v.kind]}/${encodeURIComponent(v.metadata.name)}/events`,
        )) as { items: ResourceEvent[] }
      ).items ?? [])
    : new FileEvents(resolve(opts.stateDir)).list(v.kind, key);
  if (events.length === 0) return ['Events:  <none>'];
  const rows = events.map((e) => [
    e.type,
    e.reason,
    e.count > 1 ? `${age(e.lastTimestamp)} (x${e.count} over ${age(e.firstTimestamp)})` : age(e.lastTimestamp),
    e.source,
    e.message,
  ]);
  const text = table(
    ['Type', 'Reason', 'Age', 'From', 'Message'],
    [['----', '------', '----', '----', '-------'], ...rows],
  );
  return ['Events:', ...text.split('\n').map((l) => `  ${l}`)];
}
