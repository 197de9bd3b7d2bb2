/**
 * GETs combined into `$batch` requests of at most 20: one call instead of twenty where the run needs one object
 * per record (subqueries, objects a delta round changed). An item Graph throttled (429, 503, 504 with its own
 * Retry-After) is sent again in a later batch after the longest wait its batch asked for; the whole batch's
 * own throttling is the HTTP client's. Answers come back by path, in any order Graph sends them.
 */
import { backoffMs, retryAfterMs, wait } from '../../transport/http-client.js';
import { isRecord } from '../kit/markers.js';
import { ExtractError } from '../types.js';
import { type GraphApi, graphError } from './api.js';
import { BATCH_LIMIT, graphUrl } from './config.js';
import { GRAPH_RETRY } from './session.js';

export interface BatchAnswer {
  status: number;
  body: unknown;
}

const THROTTLED = new Set([429, 503, 504]);

/** Every path (relative to /v1.0, query included) answered, each at most `GRAPH_RETRY.maxAttempts` times. */
export async function batchGet(
  api: GraphApi,
  host: URL,
  paths: readonly string[],
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<Map<string, BatchAnswer>> {
  const out = new Map<string, BatchAnswer>();
  let pending = [...new Set(paths)];
  for (let attempt = 1; pending.length > 0; attempt++) {
    const again: string[] = [];
    let waitMs = 0;
    for (let i = 0; i < pending.length; i += BATCH_LIMIT) {
      const chunk = pending.slice(i, i + BATCH_LIMIT);
      const answers = await sendBatch(api, host, chunk, headers);
      for (const [index, a] of answers) {
        const path = chunk[index];
        if (THROTTLED.has(a.status) && attempt < GRAPH_RETRY.maxAttempts) {
          again.push(path);
          api.throttled++;
          waitMs = Math.max(
            waitMs,
            retryAfterMs(a.retryAfter, GRAPH_RETRY.maxRetryAfterMs) ?? backoffMs(attempt, GRAPH_RETRY),
          );
        } else out.set(path, { status: a.status, body: a.body });
      }
    }
    if (again.length > 0 && waitMs > 0) await wait(waitMs, signal);
    pending = again;
  }
  return out;
}

async function sendBatch(
  api: GraphApi,
  host: URL,
  chunk: readonly string[],
  headers: Record<string, string>,
): Promise<Map<number, { status: number; body: unknown; retryAfter?: string }>> {
  const url = graphUrl(host, '/$batch');
  const requests = chunk.map((path, i) => ({ id: String(i), method: 'GET', url: path, headers }));
  const res = await api.send(url, {}, 'POST', JSON.stringify({ requests }));
  if (res.status !== 200) {
    const { code, message } = graphError(res.body);
    throw new ExtractError(
      `POST /v1.0/$batch answered HTTP ${res.status}: ${[code, message].filter(Boolean).join(': ')}`,
    );
  }
  const body = JSON.parse(res.body) as unknown;
  const responses = isRecord(body) && Array.isArray(body.responses) ? body.responses.filter(isRecord) : [];
  const out = new Map<number, { status: number; body: unknown; retryAfter?: string }>();
  for (const r of responses) {
    const index = Number(r.id);
    if (!Number.isInteger(index) || index < 0 || index >= chunk.length) continue;
    const h = isRecord(r.headers) ? r.headers : {};
    const retryAfter = Object.entries(h).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
    out.set(index, {
      status: Number(r.status),
      body: r.body,
      retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
    });
  }
  for (let i = 0; i < chunk.length; i++) {
    if (!out.has(i)) throw new ExtractError(`POST /v1.0/$batch left request ${chunk[i]} unanswered`);
  }
  return out;
}
