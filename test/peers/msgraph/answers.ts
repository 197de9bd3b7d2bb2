/** The shapes of the simulator's answers: Graph's error body as msgraph-api.md "Errors" gives it. */
import { randomUUID } from 'node:crypto';

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export const graphError = (
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Answer => ({
  status,
  headers,
  body: {
    error: {
      code,
      message,
      innerError: { date: new Date().toISOString(), 'request-id': randomUUID(), 'client-request-id': randomUUID() },
    },
  },
});
