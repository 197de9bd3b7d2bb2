/**
 * The output file reader: JSON arrays (pretty or compact) and JSON lines, cut into rows however the file's
 * chunks fall; malformed input named by line and column; memory bounded by one row, not by the file.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutputStats, readOutputRows } from '../../../src/connectors/script/output.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provisio-output-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function read(text: string): Promise<unknown[]> {
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, text);
  const rows: unknown[] = [];
  for await (const r of readOutputRows(file)) rows.push(r.value);
  return rows;
}

async function failure(text: string): Promise<string> {
  try {
    await read(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a failure');
}

describe('what the reader accepts', () => {
  it('a pretty-printed array (as json.dumps(indent=4) writes it), strings with brackets, quotes and escapes', async () => {
    const rows = [
      { id: '1', name: 'a [b] {c}', quote: 'say "hi"\\', nested: { list: [1, { x: ']' }] } },
      { id: '2', unicode: 'Äijä ✓ 😀' },
    ];
    expect(await read(JSON.stringify(rows, null, 4))).toEqual(rows);
    expect(await read(JSON.stringify(rows))).toEqual(rows);
    expect(await read('\ufeff[]\n')).toEqual([]);
  });

  it('JSON lines, blank lines and CRLF included', async () => {
    expect(await read('{"id": "1"}\r\n\r\n{"id": "2", "s": "a]b"}\n{"id": "3"}')).toEqual([
      { id: '1' },
      { id: '2', s: 'a]b' },
      { id: '3' },
    ]);
  });
});

describe('malformed output, by line and column', () => {
  it.each([
    ['[\n  {"id": "1"},\n  {"id": "2",}\n]', 'line 3, column 14: invalid JSON: Expected double-quoted property name'],
    ['[\n  {"id": "1"}\n  {"id": "2"}\n]', 'line 3, column 3: expected "," or "]" after an element of the array'],
    ['[{"id": "1"},]', 'line 1, column 14: "]" right after a comma: a trailing comma is not JSON'],
    ['[{"id": "1"}, 42]', 'line 1, column 15: expected an object for each row of the array'],
    ['[{"id": "1"}]\ntrailing', 'line 2, column 1: unexpected text after the closing "]" of the array'],
    [
      '[\n  {"id": "1"},\n  {"id": "2", "name": "cut',
      'line 3, column 27: the file ends inside a row: the output is cut off',
    ],
    ['[\n  {"id": "1"}', 'line 2, column 14: the file ends before the closing "]": the output is cut off'],
    ['', 'line 1, column 1: the output file is empty: expected a JSON array ("[]" for no rows)'],
    ['"rows"', 'line 1, column 1: expected a JSON array ("[") or JSON lines (one object per line)'],
    ['{"id": "1"}\n{"id": 2 x}\n', 'line 2, column 10: invalid JSON'],
    ['{"id": "1"}\n[1]\n', 'line 2, column 1: expected an object for each row'],
  ])('%j → %s', async (text, message) => {
    expect(await failure(text)).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});

describe('huge outputs stream', () => {
  it('300,000 rows (about 30 MB) go through holding one chunk and one row at most', async () => {
    const file = join(dir, 'huge.json');
    const out = createWriteStream(file);
    const N = 300_000;
    out.write('[\n');
    for (let i = 0; i < N; i++) {
      const row = JSON.stringify({ id: `E${i}`, name: `Name ${i}`, mail: `user${i}@example.com`, pad: 'x'.repeat(40) });
      if (!out.write(i === 0 ? row : `,\n${row}`)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    out.end('\n]\n');
    await new Promise<void>((r) => out.once('finish', () => r()));
    const stats: OutputStats = { peakBufferedChars: 0, rows: 0 };
    let count = 0;
    let last: unknown;
    for await (const r of readOutputRows(file, stats)) {
      count++;
      last = r.value;
    }
    expect(count).toBe(N);
    expect(stats.rows).toBe(N);
    expect(last).toMatchObject({ id: `E${N - 1}` });
    // One 64 KiB chunk plus the row being cut out: never the file (about 30,000,000 characters).
    expect(stats.peakBufferedChars).toBeLessThan(64 * 1024 + 200);
  });
});
