/**
 * The SQLite table behind the local target and the one write that matters for speed, the batch upsert.
 * Shared by the target (reads, small writes) and the card writer thread (batch upserts), which open the
 * same file on connections of their own.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../../state/sqlite.js';

export function openCardTable(file: string): Database.Database {
  const db = openSqlite(file);
  db.exec(`CREATE TABLE IF NOT EXISTS cards (
    template TEXT NOT NULL,
    key TEXT NOT NULL,
    folder TEXT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (template, key)
  ) WITHOUT ROWID`);
  return db;
}

/** One card of a batch: its unique key and its attributes as JSON. */
export type SerializedCard = readonly [key: string, json: string];

export interface BatchUpsert {
  template: string;
  folder: string | null;
  cards: readonly SerializedCard[];
  /** Undo this deletion marking on cards of the batch that carry it (their record came back). */
  restore?: RestoreMark;
}

export interface RestoreMark {
  attribute: string;
  value: string;
  /** The attribute's value after a restore; absent: the attribute is removed. */
  restoreValue?: string;
}

export type UpsertCounts = { created: number; updated: number; restored: number };

/**
 * Writes batches in one transaction each: after a crash a batch is either all there or not at all, and the
 * primary key (template, key) makes a duplicate card impossible.
 */
export class CardUpserter {
  private readonly insert: Database.Statement<[string, string, string | null, string, string, string]>;
  private readonly update: Database.Statement<[string, string, string, string]>;
  private readonly run: (batch: BatchUpsert) => UpsertCounts;
  private readonly db: Database.Database;

  constructor(db: Database.Database) {
    this.db = db;
    // json_patch merges (RFC 7396): attributes not written are kept, a null removes one (on a new card,
    // a null attribute is simply not stored). Insert first and update only on conflict: one statement for
    // a new card, and no separate query for which cards exist.
    this.insert = db.prepare(
      `INSERT INTO cards (template, key, folder, data, created_at, updated_at)
         VALUES (?, ?, ?, json_patch('{}', ?), ?, ?) ON CONFLICT (template, key) DO NOTHING`,
    );
    this.update = db.prepare(
      'UPDATE cards SET data = json_patch(data, ?), updated_at = ? WHERE template = ? AND key = ?',
    );
    this.run = db.transaction((batch: BatchUpsert) => {
      const now = new Date().toISOString();
      const restore = batch.restore && this.restorer(batch.restore);
      let created = 0;
      let updated = 0;
      let restored = 0;
      for (const [key, json] of batch.cards) {
        if (this.insert.run(batch.template, key, batch.folder, json, now, now).changes === 1) created++;
        else {
          // Only an existing card can carry the marking. Undone before the patch, so that a mapping that
          // writes the attribute itself (a status from the source) still wins.
          if (restore && restore(batch.template, key) === 1) restored++;
          this.update.run(json, now, batch.template, key);
          updated++;
        }
      }
      return { created, updated, restored };
    });
  }

  upsert(batch: BatchUpsert): UpsertCounts {
    return this.run(batch);
  }

  /** One statement by primary key per updated card: sets restoreValue (or removes the attribute) iff marked. */
  private restorer(mark: RestoreMark): (template: string, key: string) => number {
    const path = jsonPath(mark.attribute);
    const where = 'WHERE template = ? AND key = ? AND json_extract(data, ?) = ?';
    if (mark.restoreValue === undefined) {
      const remove = this.db.prepare<[string, string, string, string, string]>(
        `UPDATE cards SET data = json_remove(data, ?) ${where}`,
      );
      return (template, key) => remove.run(path, template, key, path, mark.value).changes;
    }
    const restoreValue = mark.restoreValue;
    const set = this.db.prepare<[string, string, string, string, string, string]>(
      `UPDATE cards SET data = json_set(data, ?, ?) ${where}`,
    );
    return (template, key) => set.run(path, restoreValue, template, key, path, mark.value).changes;
  }
}

/** JSON path of a top-level attribute for SQLite's json functions, quoted so any name is safe. */
export const jsonPath = (attribute: string): string => `$."${attribute.replace(/"/g, '""')}"`;
