/**
 * Reads a script's output file as a stream of rows, never holding the file whole: a JSON array of objects
 * (what the seeds' scripts write, pretty-printed or not) or JSON lines (one object per line, for outputs
 * too large for one document). The format is told by the first character: `[` is an array, `{` JSON lines.
 *
 * The array is cut into its elements by a small scanner (strings, escapes, nesting depth, line and column);
 * each element is then parsed by JSON.parse, which is fast and exact. Only the element being read is held,
 * so memory is bounded by the largest row, not by the file. Any malformed input ends the read with an
 * OutputError naming the file's line and column.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export class OutputError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    problem: string,
  ) {
    super(`line ${line}, column ${column}: ${problem}`);
  }
}

export interface OutputRow {
  value: unknown;
  /** Where the row starts in the file (1-based). */
  line: number;
  column: number;
}

export interface OutputStats {
  /** The most characters held at once (the element being cut out plus one chunk): shows the read streams. */
  peakBufferedChars: number;
  rows: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff;

/** Position of `offset` inside `text` that starts at (line, column). */
function advance(text: string, offset: number, line: number, column: number): { line: number; column: number } {
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === NEWLINE) {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

/** JSON.parse with its error moved to the file's line and column (V8 says "at position N" for most errors). */
function parseAt(text: string, line: number, column: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    const at = m ? advance(text, Number(m[1]), line, column) : { line, column };
    throw new OutputError(at.line, at.column, `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/s, '')}`);
  }
}

type Mode = 'start' | 'array' | 'lines' | 'done';

/**
 * Cuts a character stream into rows; `push` takes one decoded chunk, `end` closes the input. The hot path
 * jumps with indexOf (to the end of a string, to the next line of JSON lines) and counts lines only where a
 * position is needed (the start of a row, an error), so a chunk is mostly scanned by native code.
 */
class RowScanner {
  private mode: Mode = 'start';
  /** The element being read (its text from earlier chunks), and where it started. */
  private current = '';
  private startLine = 0;
  private startColumn = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** In an array: an element ended and a comma or `]` must follow. */
  private needSeparator = false;
  private sawComma = false;
  /** JSON lines: inside a non-empty line. */
  private inLine = false;
  /** Line accounting: the line number and start offset at `counted`, offsets counted from the file's start. */
  private line = 1;
  private lineStart = 0;
  private counted = 0;
  /** Offset of the current chunk's first character. */
  private base = 0;
  private chunk = '';
  rows = 0;
  peak = 0;

  constructor(private readonly out: (row: OutputRow) => void) {}

  /** Line and column of index `i` of the current chunk (indexes asked in increasing order). */
  private at(i: number): { line: number; column: number } {
    const abs = this.base + i;
    let k = this.counted - this.base;
    for (;;) {
      const nl = this.chunk.indexOf('\n', k);
      if (nl < 0 || nl >= i) break;
      this.line++;
      this.lineStart = this.base + nl + 1;
      k = nl + 1;
    }
    this.counted = Math.max(this.counted, abs);
    return { line: this.line, column: abs - this.lineStart + 1 };
  }

  push(chunk: string): void {
    this.chunk = chunk;
    const n = chunk.length;
    let from = -1; // start of the element's text within this chunk
    let nextBackslash = -2; // -2: not looked for yet; -1: none in the rest of the chunk
    let i = 0;
    while (i < n) {
      if (this.inLine) {
        // JSON lines: the line is the row, whatever it holds; JSON.parse judges it.
        const nl = chunk.indexOf('\n', i);
        if (nl < 0) break;
        this.emitLine(this.current + chunk.slice(Math.max(from, 0), nl));
        from = -1;
        i = nl + 1;
      } else if (this.depth > 0 && this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf('\\', i);
        const quote = chunk.indexOf('"', i);
        const end = quote < 0 ? n : quote;
        if (nextBackslash >= 0 && nextBackslash < end) {
          this.escaped = true;
          i = nextBackslash + 1;
        } else if (quote < 0) break;
        else {
          this.inString = false;
          i = quote + 1;
        }
      } else if (this.depth > 0) {
        const c = chunk.charCodeAt(i);
        if (c === QUOTE) this.inString = true;
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
        else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --this.depth === 0) {
          this.emit(this.current + chunk.slice(Math.max(from, 0), i + 1));
          from = -1;
        }
        i++;
      } else {
        const c = chunk.charCodeAt(i);
        if (!isSpace(c) && this.between(c, i)) from = i;
        i++;
      }
    }
    if (from >= 0 || this.depth > 0 || this.inLine) this.current += chunk.slice(Math.max(from, 0));
    this.peak = Math.max(this.peak, this.current.length + n);
    this.at(n);
    this.base += n;
    this.chunk = '';
  }

  /** Outside any element: separators, the array's brackets, or the start of an element (then true). */
  private between(c: number, i: number): boolean {
    if (this.mode === 'start') {
      if (c === OPEN_BRACKET) {
        this.mode = 'array';
        return false;
      }
      if (c !== OPEN_BRACE) this.fail(i, 'expected a JSON array ("[") or JSON lines (one object per line)');
      this.mode = 'lines';
      return this.begin(c, i);
    }
    if (this.mode === 'done') this.fail(i, 'unexpected text after the closing "]" of the array');
    if (this.mode === 'lines') return this.begin(c, i);
    if (c === CLOSE_BRACKET) {
      if (this.sawComma) this.fail(i, '"]" right after a comma: a trailing comma is not JSON');
      this.mode = 'done';
    } else if (c === COMMA) {
      if (!this.needSeparator) this.fail(i, 'unexpected ","');
      this.needSeparator = false;
      this.sawComma = true;
    } else if (this.needSeparator) this.fail(i, 'expected "," or "]" after an element of the array');
    else return this.begin(c, i);
    return false;
  }

  private begin(c: number, i: number): true {
    const at = this.at(i);
    this.startLine = at.line;
    this.startColumn = at.column;
    this.current = '';
    if (this.mode === 'lines') this.inLine = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth = 1;
    else this.fail(i, 'expected an object for each row of the array');
    return true;
  }

  private fail(i: number, problem: string): never {
    const at = this.at(i);
    throw new OutputError(at.line, at.column, problem);
  }

  private emit(text: string): void {
    this.current = '';
    this.needSeparator = true;
    this.sawComma = false;
    this.deliver(text);
  }

  private emitLine(text: string): void {
    this.current = '';
    this.inLine = false;
    if (text.trim() !== '') this.deliver(text);
  }

  private deliver(text: string): void {
    const value = parseAt(text, this.startLine, this.startColumn);
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new OutputError(this.startLine, this.startColumn, 'expected an object for each row');
    }
    this.rows++;
    this.out({ value, line: this.startLine, column: this.startColumn });
  }

  end(): void {
    if (this.mode === 'lines') {
      if (this.inLine && this.current.trim() !== '') this.emitLine(this.current);
      return;
    }
    // Past the last character: the position where more was expected.
    const at = { line: this.line, column: this.base - this.lineStart + 1 };
    if (this.mode === 'start') {
      throw new OutputError(at.line, at.column, 'the output file is empty: expected a JSON array ("[]" for no rows)');
    }
    if (this.mode === 'array') {
      const what = this.depth > 0 || this.inString ? 'inside a row' : 'before the closing "]"';
      throw new OutputError(at.line, at.column, `the file ends ${what}: the output is cut off`);
    }
  }
}

/**
 * The rows of an output file, in order. `stats` is filled as the read goes (for tests and the benchmark).
 * Throws OutputError (line, column) on malformed input; rows before it have been yielded.
 */
export async function* readOutputRows(file: string, stats?: OutputStats): AsyncGenerator<OutputRow> {
  const ready: OutputRow[] = [];
  const scanner = new RowScanner((row) => ready.push(row));
  const decoder = new StringDecoder('utf8');
  const report = () => {
    if (!stats) return;
    stats.peakBufferedChars = Math.max(stats.peakBufferedChars, scanner.peak);
    stats.rows = scanner.rows;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
    scanner.push(decoder.write(chunk as Buffer));
    report();
    // Handed over before the next chunk is read: at most one chunk's rows wait here.
    for (const row of ready.splice(0)) yield row;
  }
  scanner.push(decoder.end());
  scanner.end();
  report();
  for (const row of ready.splice(0)) yield row;
}
