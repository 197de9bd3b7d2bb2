/**
 * The printed schema in the real yaml-language-server (the server behind VS Code's YAML extension), spoken to over
 * LSP on stdio as an editor does: a file with the README's modeline gets no diagnostics for the examples, and a
 * mistake gets the diagnostic at its line, from the schema of its kind.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, repoRoot } from '../server/child.js';

interface Diagnostic {
  message: string;
  range: { start: { line: number } };
}

/** A minimal LSP client: Content-Length framing, requests with ids, notifications by method. */
class LspClient {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private pending = new Map<number, (result: unknown) => void>();
  private listeners: Array<(method: string, params: unknown) => void> = [];
  /** What the client answers for the `yaml` configuration section, as an editor's settings would. */
  settings: Record<string, unknown> = { validate: true, schemaStore: { enable: false } };

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
  }

  private drain(): void {
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString())?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = JSON.parse(this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString()) as {
        id?: number;
        method?: string;
        params?: unknown;
        result?: unknown;
      };
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      if (body.method && body.id !== undefined) this.answer(body.id, body.method, body.params);
      else if (body.method) for (const l of this.listeners) l(body.method, body.params);
      else if (body.id !== undefined) this.pending.get(body.id)?.(body.result);
    }
  }

  /** Requests from the server: configuration gets the YAML settings, everything else an empty answer. */
  private answer(id: number, method: string, params: unknown): void {
    const items = (params as { items?: Array<{ section?: string }> })?.items ?? [];
    const result =
      method === 'workspace/configuration' ? items.map((i) => (i.section === 'yaml' ? this.settings : null)) : null;
    this.send({ jsonrpc: '2.0', id, result });
  }

  private send(message: unknown): void {
    const text = JSON.stringify(message);
    this.child.stdin.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  }

  request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** The diagnostics the server publishes for URI (the first publication after this call). */
  diagnostics(uri: string): Promise<Diagnostic[]> {
    return new Promise((resolve) => {
      const listener = (method: string, params: unknown) => {
        const p = params as { uri: string; diagnostics: Diagnostic[] };
        if (method !== 'textDocument/publishDiagnostics' || p.uri !== uri) return;
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(p.diagnostics);
      };
      this.listeners.push(listener);
    });
  }
}

const work = mkdtempSync(join(tmpdir(), 'provisio-yls-'));
let server: ChildProcessWithoutNullStreams;
let lsp: LspClient;
let version = 0;

async function open(name: string, text: string): Promise<Diagnostic[]> {
  const file = join(work, name);
  writeFileSync(file, text);
  const uri = pathToFileURL(file).href;
  const published = lsp.diagnostics(uri);
  lsp.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: ++version, text } });
  return published;
}

beforeAll(async () => {
  const schema = await cli(['schema']);
  expect(schema.code).toBe(0);
  writeFileSync(join(work, 'provisio.schema.json'), schema.stdout);
  const pkg = createRequire(import.meta.url).resolve('yaml-language-server/package.json');
  server = spawn(process.execPath, [join(dirname(pkg), 'bin', 'yaml-language-server'), '--stdio'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  lsp = new LspClient(server);
  await lsp.request('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(work).href,
    capabilities: { workspace: { configuration: true } },
  });
  lsp.notify('initialized', {});
  lsp.notify('workspace/didChangeConfiguration', {
    settings: { yaml: { validate: true, schemaStore: { enable: false } } },
  });
});
afterAll(() => {
  server?.kill();
  rmSync(work, { recursive: true, force: true });
});

const MODELINE = '# yaml-language-server: $schema=./provisio.schema.json';
/** The modeline belongs to one document: yaml-language-server reads it from each document's header comments. */
const withModelines = (text: string) => `${MODELINE}\n${text.replace(/^---[ \t]*$/gm, `---\n${MODELINE}`)}`;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const BROKEN = `apiVersion: provisio.dev/v1alpha1
kind: Connector
metadata: {name: hr-api}
spec:
  type: rset
---
apiVersion: provisio.dev/v1alpha1
kind: Task
metadata: {name: hr-employees}
spec:
  connectorRef: {name: hr-api}
  usage: sometimes
`;
const firstLines = (found: Diagnostic[]) => found.map((d) => [d.range.start.line, d.message.split('\n')[0]]);

describe('yaml-language-server with the printed schema', () => {
  it('reports nothing for any file of examples/ (Connectors and Tasks together)', async () => {
    const files = yamlFiles(join(repoRoot, 'examples'));
    expect(files.length).toBeGreaterThan(15);
    for (const [i, file] of files.entries()) {
      const found = await open(`example-${i}.yaml`, withModelines(readFileSync(file, 'utf8')));
      expect([relative(repoRoot, file), found]).toEqual([relative(repoRoot, file), []]);
    }
  });

  it('reports a mistake at its line, from the schema of its kind (the README modeline in each document)', async () => {
    expect(firstLines(await open('broken.yaml', withModelines(BROKEN)))).toEqual([
      [5, 'Value is not accepted. Valid values: "rest", "m42", "msgraph", "scim", "ldap", "script".'],
      [13, 'Value is not accepted. Valid values: "scheduled", "event", "authentication".'],
    ]);
  });

  it('applies yaml.schemas from the settings (the README .vscode/settings.json snippet) to every document', async () => {
    lsp.settings = {
      ...lsp.settings,
      schemas: { [pathToFileURL(join(work, 'provisio.schema.json')).href]: ['deploy/**/*.yaml'] },
    };
    lsp.notify('workspace/didChangeConfiguration', { settings: { yaml: lsp.settings } });
    mkdirSync(join(work, 'deploy/hr'), { recursive: true });
    expect(firstLines(await open('deploy/hr/broken.yaml', BROKEN))).toEqual([
      [4, 'Value is not accepted. Valid values: "rest", "m42", "msgraph", "scim", "ldap", "script".'],
      [11, 'Value is not accepted. Valid values: "scheduled", "event", "authentication".'],
    ]);
  });
});
