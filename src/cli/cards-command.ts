/** `provisio cards [TEMPLATE]`: the data cards of the embedded local target. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalTarget } from '../targets/local/local-target.js';
import { type OutputFormat, render, table } from './output.js';

export async function cardsCommand(
  template: string | undefined,
  format: OutputFormat,
  stateDir: string,
  /** Most cards shown; default 200 in a table and every card as JSON or YAML. */
  limit: number | undefined,
) {
  const most = limit ?? (format === 'table' ? 200 : Number.POSITIVE_INFINITY);
  const file = join(resolve(stateDir), 'cards.db');
  if (!existsSync(file))
    throw new Error(
      `no local target in ${stateDir} yet: run \`provisio run --dir PATH --state-dir ${stateDir}\` first`,
    );
  const target = new LocalTarget(file);
  try {
    if (!template) {
      const rows = target.templates().map((t) => [t.template, String(t.cards)]);
      if (format === 'table') console.log(table(['TEMPLATE', 'CARDS'], rows));
      else console.log(render(format, target.templates()));
      return;
    }
    const cards: Record<string, unknown>[] = [];
    for await (const card of target.list(template)) {
      cards.push(card);
      if (cards.length >= most) break;
    }
    if (format !== 'table') {
      console.log(render(format, cards));
      return;
    }
    if (cards.length === 0) {
      console.error(`No cards in template "${template}".`);
      return;
    }
    const columns = [...new Set(cards.flatMap((c) => Object.keys(c)))];
    const cell = (v: unknown) =>
      v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    console.log(
      table(
        columns.map((c) => c.toUpperCase()),
        cards.map((c) => columns.map((k) => cell(c[k]))),
      ),
    );
  } finally {
    await target.close();
  }
}
