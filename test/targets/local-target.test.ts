/** The embedded local target: upserts by unique key on its writer thread, merge semantics, errors, reopening. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalTarget } from '../../src/targets/local/local-target.js';
import type { Card } from '../../src/targets/types.js';

let dir: string;
let target: LocalTarget;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'provisio-local-target-'));
  target = new LocalTarget(join(dir, 'cards.db'));
});
afterEach(async () => {
  await target.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cards(t: LocalTarget, template = 'employee'): Promise<Card[]> {
  const out: Card[] = [];
  for await (const c of t.list(template)) out.push(c);
  return out;
}

describe('LocalTarget', () => {
  it('creates, then updates by unique key, keeping attributes not written and dropping nulls', async () => {
    expect(
      await target.upsert('employee', 'staff', 'id', [
        { key: 'E1', attributes: { id: 'E1', name: 'Aino', phone: '123', title: null } },
        { key: 'E2', attributes: { id: 'E2', name: 'Eero' } },
      ]),
    ).toEqual({ created: 2, updated: 0, restored: 0, failed: [] });
    expect(
      await target.upsert('employee', 'staff', 'id', [
        { key: 'E1', attributes: { id: 'E1', name: 'Aino K', phone: null } },
        { key: 'E3', attributes: { id: 'E3', name: 'Helmi' } },
      ]),
    ).toEqual({ created: 1, updated: 1, restored: 0, failed: [] });
    expect(await cards(target)).toEqual([
      { id: 'E1', name: 'Aino K' },
      { id: 'E2', name: 'Eero' },
      { id: 'E3', name: 'Helmi' },
    ]);
  });

  it('writes one card for a key that appears twice in a batch, the later attributes winning', async () => {
    expect(
      await target.upsert('employee', undefined, 'id', [
        { key: 'E1', attributes: { id: 'E1', name: 'first' } },
        { key: 'E1', attributes: { id: 'E1', name: 'second' } },
      ]),
    ).toEqual({ created: 1, updated: 1, restored: 0, failed: [] });
    expect(await cards(target)).toEqual([{ id: 'E1', name: 'second' }]);
  });

  it("refuses a batch SQLite cannot store with SQLite's reason, writes none of it, and takes the next batch", async () => {
    await expect(
      target.upsert('employee', undefined, 'id', [
        { key: 'E1', attributes: {}, json: '{"id":"E1"}' },
        { key: 'E2', attributes: {}, json: '{"id": broken' },
      ]),
    ).rejects.toThrow(/malformed JSON/);
    expect(await cards(target)).toEqual([]);
    expect(await target.upsert('employee', undefined, 'id', [{ key: 'E3', attributes: { id: 'E3' } }])).toEqual({
      created: 1,
      updated: 0,
      restored: 0,
      failed: [],
    });
  });

  it('has every written card on disk once closed, for the next process to read', async () => {
    const batch = Array.from({ length: 1200 }, (_, i) => ({ key: `K${i}`, attributes: { id: `K${i}`, n: i } }));
    await target.upsert('employee', undefined, 'id', batch.slice(0, 600));
    await target.upsert('employee', undefined, 'id', batch.slice(600));
    await target.close();
    target = new LocalTarget(join(dir, 'cards.db'));
    expect(target.templates()).toEqual([{ template: 'employee', cards: 1200 }]);
  });
});
