/**
 * The embedded default target: a data-card store in one SQLite file, so the main job runs with
 * nothing else installed. Upserts are transactional per batch: after a crash a batch is either all
 * there or not at all, and the primary key (template, key) makes a duplicate card impossible.
 * SQLite keeps a bounded page cache, so memory does not grow with the number of cards.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openSqlite } from '../../state/sqlite.js';
import type { Card, CardWrite, OwnedCardsQuery, Target, UpsertResult } from '../types.js';

export class LocalTarget implements Target {
  readonly name = 'local';
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string, string | null, string, string, string]>;
  private readonly upsertOne: Database.Statement<
    [{ template: string; key: string; folder: string | null; data: string; now: string }]
  >;
  private readonly existing: Database.Statement<[string, string], { key: string }>;

  constructor(readonly file: string) {
    this.db = openSqlite(file);
    this.db.exec(`CREATE TABLE IF NOT EXISTS cards (
      template TEXT NOT NULL,
      key TEXT NOT NULL,
      folder TEXT,
      data TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (template, key)
    ) WITHOUT ROWID`);
    this.insert = this.db.prepare(
      'INSERT INTO cards (template, key, folder, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // json_patch merges (RFC 7396): attributes not written are kept, a null removes one.
    this.upsertOne = this.db.prepare(
      `INSERT INTO cards (template, key, folder, data, created_at, updated_at)
         VALUES (@template, @key, @folder, json_patch('{}', @data), @now, @now)
       ON CONFLICT (template, key) DO UPDATE SET data = json_patch(cards.data, @data), updated_at = @now`,
    );
    this.existing = this.db.prepare(
      'SELECT key FROM cards WHERE template = ? AND key IN (SELECT value FROM json_each(?))',
    );
  }

  async upsert(
    template: string,
    folder: string | undefined,
    _unique: string,
    cards: CardWrite[],
  ): Promise<UpsertResult> {
    const result: UpsertResult = { created: 0, updated: 0, failed: [] };
    const now = new Date().toISOString();
    this.db.transaction(() => {
      // One query tells which cards exist, instead of a read per card.
      const known = new Set(this.existing.all(template, JSON.stringify(cards.map((c) => c.key))).map((r) => r.key));
      for (const card of cards) {
        const data = card.json ?? JSON.stringify(card.attributes);
        this.upsertOne.run({ template, key: card.key, folder: folder ?? null, data, now });
        if (known.has(card.key)) result.updated++;
        else {
          result.created++;
          known.add(card.key);
        }
      }
    })();
    return result;
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
    this.db.close();
  }
}

/** JSON path of a top-level attribute for SQLite's json functions, quoted so any name is safe. */
const jsonPath = (attribute: string): string => `$."${attribute.replace(/"/g, '""')}"`;
