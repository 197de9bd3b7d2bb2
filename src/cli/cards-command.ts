/**
 * `provisio cards [TEMPLATE]`: the data cards of the embedded local target, or with `--target m42` those of
 * the home solution, read through its REST API with a WebAPI user's Secret.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../log/logger.js';
import { LocalSecretResolver } from '../secrets/resolver.js';
import { LocalTarget } from '../targets/local/local-target.js';
import { m42Target, webApiCredentials } from '../targets/m42/m42-targets.js';
import type { Card, Target } from '../targets/types.js';
import { type OutputFormat, render, table } from './output.js';

export interface CardsTargetOptions {
  target?: string;
  targetUrl?: string;
  targetCa?: string;
  webapiSecret?: string;
  secretsDir?: string;
}

export async function cardsCommand(
  template: string | undefined,
  format: OutputFormat,
  stateDir: string,
  /** Most cards shown; default 200 in a table and every card as JSON or YAML. */
  limit: number | undefined,
  opts: CardsTargetOptions = {},
) {
  const most = limit ?? (format === 'table' ? 200 : Number.POSITIVE_INFINITY);
  if (opts.target === 'm42') {
    const target = openM42(opts);
    try {
      if (!template) {
        const rows = (await target.cards.templates()).map((t) => ({ template: t.templateCode, name: t.name ?? '' }));
        if (format === 'table')
          console.log(
            table(
              ['TEMPLATE', 'NAME'],
              rows.map((r) => [r.template, r.name]),
            ),
          );
        else console.log(render(format, rows));
        return;
      }
      await printCards(target, template, format, most);
    } finally {
      await target.close();
    }
    return;
  }
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
    await printCards(target, template, format, most);
  } finally {
    await target.close();
  }
}

function openM42(opts: CardsTargetOptions) {
  if (!opts.targetUrl) throw new Error('--target m42 needs --target-url, such as https://host/rest-api/itsm/v1');
  if (!opts.webapiSecret) {
    throw new Error(
      '--target m42 needs --webapi-secret NAME: the Secret with the WebAPI user (keys username, password)',
    );
  }
  const secrets = new LocalSecretResolver(opts.secretsDir ?? process.env.PROVISIO_SECRETS_DIR);
  return m42Target({
    url: opts.targetUrl,
    caFile: opts.targetCa,
    log: createLogger({
      base: { component: 'cli' },
      level: process.env.PROVISIO_LOG_LEVEL ?? 'warn',
      destination: process.stderr,
    }),
    credentials: webApiCredentials(secrets, 'default', opts.webapiSecret),
  });
}

async function printCards(target: Target, template: string, format: OutputFormat, limit: number): Promise<void> {
  const cards: Card[] = [];
  for await (const card of target.list(template)) {
    cards.push(card);
    if (cards.length >= limit) break;
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
}
