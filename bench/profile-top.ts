/**
 * Summarizes a V8 CPU profile (node --cpu-prof): where the time went, by function and by file.
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir /tmp/prof bench/extract-phase.ts --phase full \
 *     --base-url http://127.0.0.1:PORT/ --records 100000 --state-dir /tmp/state
 *   npx tsx bench/profile-top.ts /tmp/prof/CPU.*.0.001.cpuprofile [--top 25] [--filter src/]
 *
 * Prints self time per function, inclusive time per function (each function counted once per sample, so
 * recursion does not inflate it) and self time per file; --filter keeps rows whose location contains the
 * text. Locations are shortened to the repository (src/..., node_modules/<pkg>, node:<internal>).
 */
import { readFileSync } from 'node:fs';
import { intOption, option, table } from './lib/measure.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function shortFile(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `node_modules/${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const src = url.search(/\/(src|bench|test)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

function main(): void {
  const file = process.argv[2];
  if (!file || file.startsWith('--')) {
    throw new Error('usage: profile-top.ts FILE.cpuprofile [--top N] [--filter TEXT]');
  }
  const top = intOption('--top', 25);
  const filter = option('--filter');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode): string => {
    const f = n.callFrame;
    const name = f.functionName || '(anonymous)';
    return f.url ? `${name}  ${shortFile(f.url)}:${f.lineNumber + 1}` : name;
  };

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const perFile = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const node = byId.get(id);
    if (!node) return;
    const k = key(node);
    self.set(k, (self.get(k) ?? 0) + dt);
    const f = node.callFrame.url ? shortFile(node.callFrame.url) : node.callFrame.functionName;
    perFile.set(f, (perFile.get(f) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      const nk = key(n);
      if (seen.has(nk)) continue;
      seen.add(nk);
      inclusive.set(nk, (inclusive.get(nk) ?? 0) + dt);
    }
  });

  const rows = (m: Map<string, number>): string[][] =>
    [...m.entries()]
      .filter(([k]) => !filter || k.includes(filter))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => [k, ms.toFixed(0), `${((ms / total) * 100).toFixed(1)}%`]);
  console.log(`${file}: ${total.toFixed(0)} ms sampled\n`);
  console.log(`${table(['self time by function', 'ms', 'share'], rows(self))}\n`);
  console.log(`${table(['inclusive time by function', 'ms', 'share'], rows(inclusive))}\n`);
  console.log(table(['self time by file', 'ms', 'share'], rows(perFile)));
}

main();
