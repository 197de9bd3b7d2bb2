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
const BACKSLASH = 0x5c;
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

/** Cuts a character stream into rows; `push` takes one decoded chunk, `end` closes the input. */
class RowScanner {
  private mode: Mode = 'start';
  private line = 1;
  private column = 1;
  /** The element being read, and where it started. */
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
  rows = 0;
  peak = 0;

  constructor(private readonly out: (row: OutputRow) => void) {}

  push(chunk: string): void {
    let from = -1; // start of the element's text within this chunk
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.mode === 'lines' && this.inLine) {
        // JSON lines: the line is the row, whatever it holds; JSON.parse judges it.
        if (c === NEWLINE) {
          this.emitLine(this.current + chunk.slice(Math.max(from, 0), i));
          from = -1;
        }
      } else if (this.depth > 0) {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (c === BACKSLASH) this.escaped = true;
          else if (c === QUOTE) this.inString = false;
        } else if (c === QUOTE) this.inString = true;
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          this.depth--;
          if (this.depth === 0) {
            this.emit(this.current + chunk.slice(Math.max(from, 0), i + 1));
            from = -1;
          }
        }
      } else this.between(c, () => (from = i));
      this.step(c);
    }
    if (from >= 0 || this.depth > 0 || this.inLine) this.current += chunk.slice(Math.max(from, 0));
    this.peak = Math.max(this.peak, this.current.length + chunk.length);
  }

  /** Outside any element: whitespace, separators, the array's brackets, or the start of an element. */
  private between(c: number, startElement: () => void): void {
    if (isSpace(c)) return;
    if (this.mode === 'start') {
      if (c === OPEN_BRACKET) this.mode = 'array';
      else if (c === OPEN_BRACE) {
        this.mode = 'lines';
        this.begin(c, startElement);
      } else this.fail('expected a JSON array ("[") or JSON lines (one object per line)');
      return;
    }
    if (this.mode === 'done') this.fail('unexpected text after the closing "]" of the array');
    if (this.mode === 'lines') {
      this.begin(c, startElement);
      return;
    }
    if (c === CLOSE_BRACKET) {
      if (this.sawComma) this.fail('"]" right after a comma: a trailing comma is not JSON');
      this.mode = 'done';
    } else if (c === COMMA) {
      if (!this.needSeparator) this.fail('unexpected ","');
      this.needSeparator = false;
      this.sawComma = true;
    } else if (this.needSeparator) this.fail('expected "," or "]" after an element of the array');
    else this.begin(c, startElement);
  }

  private begin(c: number, startElement: () => void): void {
    this.startLine = this.line;
    this.startColumn = this.column;
    this.current = '';
    startElement();
    if (this.mode === 'lines') this.inLine = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth = 1;
    else this.fail('expected an object for each row of the array');
  }

  private step(c: number): void {
    if (c === NEWLINE) {
      this.line++;
      this.column = 1;
    } else this.column++;
  }

  private fail(problem: string): never {
    throw new OutputError(this.line, this.column, problem);
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
    if (this.mode === 'start') this.fail('the output file is empty: expected a JSON array ("[]" for no rows)');
    if (this.mode === 'array') {
      const what = this.depth > 0 || this.inString ? 'inside a row' : 'before the closing "]"';
      this.fail(`the file ends ${what}: the output is cut off`);
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
