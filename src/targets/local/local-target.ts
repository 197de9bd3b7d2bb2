/**
 * The embedded default target: a data-card store in one SQLite file, so the main job runs with
 * nothing else installed. Batch upserts (card-table.ts) are transactional per batch and run on a thread
 * of their own (card-writer.ts); reads and the occasional single write use this thread's connection.
 * SQLite keeps a bounded page cache, so memory does not grow with the number of cards.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Card, CardWrite, OwnedCardsQuery, Target, UpsertOptions, UpsertResult } from '../types.js';
import { jsonPath, openCardTable } from './card-table.js';
import { CardWriter } from './card-writer.js';

export class LocalTarget implements Target {
  readonly name = 'local';
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, string | null, string, string, string]>;
  /** Batch upserts run on their own thread, started with the first one (readers such as the CLI need none). */
  private writer: CardWriter | undefined;

  constructor(readonly file: string) {
    this.db = openCardTable(file);
    this.insert = this.db.prepare(
      'INSERT INTO cards (template, key, folder, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  async upsert(
    template: string,
    folder: string | undefined,
    _unique: string,
    cards: CardWrite[],
    options: UpsertOptions = {},
  ): Promise<UpsertResult> {
    // A thread that died (it should not) is replaced, so that one failed run does not break the next ones.
    if (!this.writer || this.writer.broken) this.writer = new CardWriter(this.file);
    const counts = await this.writer.upsert({
      template,
      folder: folder ?? null,
      cards: cards.map((c) => [c.key, c.json ?? JSON.stringify(c.attributes)] as const),
      restore: options.restore,
    });
    return { ...counts, failed: [] };
  }

  async *ownedCards(q: OwnedCardsQuery): AsyncIterable<string> {
    const stmt = this.db.prepare<[string, string, string, string, string], { key: string }>(
      `SELECT key FROM cards WHERE template = ? AND json_extract(data, ?) = ?
         AND coalesce(json_extract(data, ?), '') != ?`,
    );
    // The caller must drain this before writing: SQLite refuses writes while a read is open.
    const rows = stmt.iterate(
      q.template,
      jsonPath(q.taskIdAttribute),
      q.taskId,
      jsonPath(q.notMarked.attribute),
      q.notMarked.value,
    );
    for (const row of rows) yield row.key;
  }

  async markDeleted(template: string, _unique: string, keys: string[], mark: { attribute: string; value: string }) {
    const now = new Date().toISOString();
    const stmt = this.db.prepare<[string, string, string, string, string]>(
      'UPDATE cards SET data = json_set(data, ?, ?), updated_at = ? WHERE template = ? AND key = ?',
    );
    let marked = 0;
    this.db.transaction(() => {
      for (const key of keys) marked += stmt.run(jsonPath(mark.attribute), mark.value, now, template, key).changes;
    })();
    return marked;
  }

  async createCard(template: string, folder: string | undefined, attributes: Card): Promise<void> {
    const now = new Date().toISOString();
    this.insert.run(template, randomUUID(), folder ?? null, JSON.stringify(attributes), now, now);
  }

  async *list(template: string): AsyncIterable<Card> {
    const stmt = this.db.prepare<[string], { data: string }>('SELECT data FROM cards WHERE template = ? ORDER BY key');
    for (const row of stmt.iterate(template)) yield JSON.parse(row.data) as Card;
  }

  /** Templates that hold cards, for `provisio cards` without a template. */
  templates(): Array<{ template: string; cards: number }> {
    return this.db
      .prepare<[], { template: string; cards: number }>(
        'SELECT template, count(*) AS cards FROM cards GROUP BY template ORDER BY template',
      )
      .all();
  }

  async close(): Promise<void> {
    await this.writer?.close();
    this.db.close();
  }
}
