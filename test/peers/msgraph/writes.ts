/**
 * How the simulator's write areas plug in: each of user-writes.ts, group-writes.ts and object-writes.ts gets every
 * non-GET request under /v1.0 (after authorization and faults) and answers the ones it knows, as
 * msgraph-api.md "Writes" says, changing `sim.dir` (which delta rounds then report).
 */
import type { Answer } from './answers.js';
import type { GraphSimulator } from './server.js';

export interface WriteRequest {
  method: string;
  /** The path after /v1.0, not decoded: `/users/{id}`, `/groups/{id}/members/$ref`. */
  path: string;
  url: URL;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body's bytes (a photo). */
  raw: Buffer;
  inBatch: boolean;
}

export type WriteHandler = (req: WriteRequest, sim: GraphSimulator) => Answer | undefined;

/** The JSON body of a write, or the 400 Graph gives for one that is not JSON. */
export function jsonBody(req: WriteRequest): Record<string, unknown> | Answer {
  try {
    const v = JSON.parse(req.body) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  return {
    status: 400,
    body: {
      error: {
        code: 'BadRequest',
        message:
          'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      },
    },
  };
}
