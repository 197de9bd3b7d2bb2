/**
 * Everything about a call that depends only on the connector and the task, computed once per resource object
 * rather than per invocation: the base URL and task prefix, the timeout, the date formatters, the static
 * headers. The store replaces a resource object when it changes, so a WeakMap keyed by the task is enough.
 */

import { parseDuration } from '../../../model/duration.js';
import type { Connector, Task } from '../../../model/resources.js';
import { DEFAULT_EVENT_TIMEOUT } from '../../kit/activity/run.js';
import { dateValueFormatter } from '../../kit/date-format.js';
import { taskPrefix, type UrlBase, urlBase } from '../../kit/event-call/call-url.js';
import { mergeHeaders } from '../api.js';

/** The connector or task is misconfigured: the call fails with an Exception naming the field. */
export class ConfigError extends Error {}

export interface CallPlan {
  connector: Connector;
  where: UrlBase;
  /** Base URL + event.query. */
  prefix: URL;
  timeoutMs: number;
  /** The timeout as written, for messages. */
  timeoutText: string;
  formatString: (value: string) => string;
  /** Accept, connector headers, task headers: in that order, later ones winning. Auth is added per call. */
  headers: Record<string, string>;
  /** The Content-Type these headers set, lower-cased, if any. */
  contentType?: string;
}

const plans = new WeakMap<Task, CallPlan>();

export function callPlan(connector: Connector, task: Task): CallPlan {
  let plan = plans.get(task);
  if (!plan || plan.connector !== connector) {
    plan = buildPlan(connector, task);
    plans.set(task, plan);
  }
  return plan;
}

function buildPlan(connector: Connector, task: Task): CallPlan {
  const rest = connector.spec.rest;
  if (!rest) throw new ConfigError(`connector "${connector.metadata.name}" has no spec.rest block`);
  let base: URL;
  try {
    base = new URL(rest.baseUrl);
  } catch {
    throw new ConfigError(`connector "${connector.metadata.name}": spec.rest.baseUrl is not a valid URL`);
  }
  const event = task.spec.event ?? {};
  const where = urlBase(base);
  const timeoutText = event.timeout ?? DEFAULT_EVENT_TIMEOUT;
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(timeoutText);
  } catch (e) {
    throw new ConfigError(`task "${task.metadata.name}": spec.event.timeout: ${(e as Error).message}`);
  }
  let formatString: (value: string) => string;
  try {
    formatString = dateValueFormatter({ dateFormat: event.dateFormat, dateTimeFormat: event.dateTimeFormat });
  } catch (e) {
    throw new ConfigError(`task "${task.metadata.name}": spec.event: ${(e as Error).message}`);
  }
  const headers = mergeHeaders({ Accept: 'application/json' }, rest.headers, event.headers);
  const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  return {
    connector,
    where,
    prefix: taskPrefix(where, event.query),
    timeoutMs,
    timeoutText,
    formatString,
    headers,
    contentType: contentType?.toLowerCase(),
  };
}
