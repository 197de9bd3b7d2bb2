/**
 * Events in git mode (ADR 0010), as Kubernetes keeps them for `kubectl describe`: per resource, the last few
 * events (type, reason, message, count, first and last time), a repeat of the latest one counted rather than
 * added. Kept in the state directory (`events/<Kind>/<namespace>/<name>.json`), so `provisio describe --dir`
 * shows them without a running controller and they survive restarts.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Kind } from '../model/resources.js';
import { writeFileAtomic } from './atomic-file.js';

export interface ResourceEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  /** Who recorded it (kubectl's FROM column). */
  source: string;
}

/** Events kept per resource (Kubernetes keeps them for an hour; a file keeps the last ones). */
export const EVENTS_PER_RESOURCE = 20;

export class FileEvents {
  constructor(private readonly stateDir: string) {}

  private file(kind: Kind, key: string): string {
    const [namespace, name] = key.split('/', 2);
    return join(this.stateDir, 'events', kind, namespace, `${name}.json`);
  }

  /** The resource's events, oldest first. */
  list(kind: Kind, key: string): ResourceEvent[] {
    const file = this.file(kind, key);
    if (!existsSync(file)) return [];
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as ResourceEvent[];
    } catch {
      return [];
    }
  }

  record(kind: Kind, key: string, e: Pick<ResourceEvent, 'type' | 'reason' | 'message'>, now = new Date()): void {
    const events = this.list(kind, key);
    const last = events.at(-1);
    const at = now.toISOString();
    if (last && last.type === e.type && last.reason === e.reason && last.message === e.message) {
      last.count++;
      last.lastTimestamp = at;
    } else {
      events.push({ ...e, count: 1, firstTimestamp: at, lastTimestamp: at, source: 'provisio-controller' });
    }
    const file = this.file(kind, key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(events.slice(-EVENTS_PER_RESOURCE)));
  }
}
