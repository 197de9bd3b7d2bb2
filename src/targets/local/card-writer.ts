/**
 * Batch upserts of the local target on a thread of their own. SQLite work is synchronous: in the
 * controller's thread, writing a large load would hold up everything else it does (extracting the next
 * page, event invocations, the status API). On its own thread the writing overlaps with the extract, which
 * the engine keeps going while a batch is being written.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BatchUpsert, UpsertCounts } from './card-table.js';
import type { WriterReply, WriterRequest } from './card-writer-thread.js';

interface Waiting {
  resolve: (counts: UpsertCounts) => void;
  reject: (e: Error) => void;
}

/**
 * Starts the thread's module next to this one: `.js` when compiled; from the sources (`.ts`, under tsx or
 * vitest) a small bootstrap registers the TypeScript loader in the new thread first, since on Node 20 a
 * thread does not inherit the loader its parent was started with.
 */
function startThread(file: string): Worker {
  const ext = extname(fileURLToPath(import.meta.url));
  const module = new URL(`./card-writer-thread${ext}`, import.meta.url);
  if (ext !== '.ts') return new Worker(module, { workerData: { file } });
  const loader = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: { file } });
}

export class CardWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(file: string) {
    this.worker = startThread(file);
    this.worker.on('message', (reply: WriterReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) w.reject(new Error(reply.error));
      else w.resolve({ created: reply.created, updated: reply.updated, restored: reply.restored });
    });
    const fail = (e: Error): void => {
      this.failure = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', (e) => fail(new Error(`the card writer thread failed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`the card writer thread exited (code ${code})`)));
    // Idle, the thread must not keep the process alive; requests in flight do (see send).
    this.worker.unref();
  }

  /** The thread ended or failed: this writer refuses everything; the target starts a new one. */
  get broken(): boolean {
    return this.failure !== undefined;
  }

  upsert(batch: BatchUpsert): Promise<UpsertCounts> {
    return this.send({ id: this.nextId++, batch });
  }

  /** Finishes the batches sent before, closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    await this.send({ id: this.nextId++, close: true });
    // Referenced again: waiting for the thread to end must keep the process alive.
    this.worker.ref();
    await exited;
  }

  private send(request: WriterRequest): Promise<UpsertCounts> {
    if (this.failure) return Promise.reject(this.failure);
    this.worker.ref();
    return new Promise<UpsertCounts>((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      this.worker.postMessage(request);
    }).finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
  }
}
