/**
 * Entry point of the card writer thread (see card-writer.ts): owns one SQLite connection to the card file
 * and answers each batch with its counts, in the order the batches came.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type BatchUpsert, CardUpserter, openCardTable, type UpsertCounts } from './card-table.js';

export type WriterRequest = { id: number; batch: BatchUpsert } | { id: number; close: true };
export type WriterReply = ({ id: number } & UpsertCounts) | { id: number; error: string };

if (!parentPort) throw new Error('card-writer-thread runs as a worker thread of the local target');
const port = parentPort;
const db = openCardTable((workerData as { file: string }).file);
const upserter = new CardUpserter(db);

port.on('message', (request: WriterRequest) => {
  if ('close' in request) {
    db.close();
    port.postMessage({ id: request.id, created: 0, updated: 0, restored: 0 } satisfies WriterReply);
    port.close();
    return;
  }
  try {
    port.postMessage({ id: request.id, ...upserter.upsert(request.batch) } satisfies WriterReply);
  } catch (e) {
    port.postMessage({ id: request.id, error: (e as Error).message } satisfies WriterReply);
  }
});
