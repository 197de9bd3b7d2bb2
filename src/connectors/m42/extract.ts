/**
 * The scheduled extract of an M42 task: the data cards of `source.m42.templateCode` (in `folderCode` when
 * set) that `filter` selects, page by page (descending ids, `filterId`). The filter is EQL's WHERE part, or
 * a whole `SELECT ... WHERE ...` as the seeds write them, reduced to its WHERE part. Only the attributes the
 * mappings read are requested. A record is the card as plain values (card-values.ts): attribute codes with
 * single values as values, multi-valued ones as lists, references as `{name, dataCardId}`.
 */
import type { M42Source } from '../../generated/types.js';
import { ExtractError } from '../../model/errors.js';
import { plainCard } from '../../targets/m42/api/card-values.js';
import { eqlAnd, eqlLiteral, wherePart } from '../../targets/m42/api/eql.js';
import type { TemplateInfo } from '../../targets/m42/api/types.js';
import type { ExtractContext, ExtractedRecord, Extraction, ExtractOutcome } from '../types.js';
import { type M42RuntimeOptions, openM42Session } from './session.js';

/** Fields of every card that are not attribute codes. */
export const CARD_FIELDS: ReadonlySet<string> = new Set(['dataCardId', 'name', 'folderCode']);

export function m42Source(ctx: { task: ExtractContext['task'] }): M42Source {
  const source = ctx.task.spec.source?.m42;
  if (!source) throw new ExtractError(`Task ${ctx.task.metadata.name} has no spec.source.m42 block`);
  return source;
}

export function extractM42(ctx: ExtractContext, options: M42RuntimeOptions = {}): Extraction {
  const outcome: ExtractOutcome = { complete: true };
  return { [Symbol.asyncIterator]: () => run(ctx, options), outcome: () => outcome };
}

async function* run(ctx: ExtractContext, options: M42RuntimeOptions): AsyncGenerator<ExtractedRecord> {
  const session = await openM42Session(ctx, options);
  let records = 0;
  try {
    const source = m42Source(ctx);
    const template = await session.cards.template(source.templateCode);
    if (!template) {
      throw new ExtractError(
        `the other instance has no template "${source.templateCode}" (spec.source.m42.templateCode)`,
      );
    }
    const selectedAttributes = readAttributes(ctx, template);
    const filter = eqlAnd(
      wherePart(source.filter),
      source.folderCode ? `entity.folder.code = ${eqlLiteral(source.folderCode)}` : undefined,
    );
    const multi = (code: string) => template.attributes?.[code]?.multiValue === true;
    for await (const page of session.cards.pages(source.templateCode, { filter, selectedAttributes }, ctx.signal)) {
      for (const card of page) yield { kind: 'generic', op: 'upsert', data: plainCard(card, multi) };
      records += page.length;
      ctx.progress({ records, apiCalls: session.client.calls });
    }
    ctx.log.info({ records, apiCalls: session.client.calls, template: source.templateCode }, 'M42 extract finished');
  } catch (e) {
    throw session.toExtractError(e);
  } finally {
    await session.close();
  }
}

/** The attribute codes the mappings read (the first step of each path); a code the template lacks is an error. */
function readAttributes(ctx: ExtractContext, template: TemplateInfo): string[] {
  const codes = new Set<string>();
  const attributes = ctx.task.spec.mappings?.generic?.attributes ?? [];
  attributes.forEach((a, i) => {
    const code = /^[A-Za-z_][A-Za-z0-9_]*/.exec(a.external)?.[0];
    if (!code || CARD_FIELDS.has(code)) return;
    if (!template.attributes?.[code]) {
      throw new ExtractError(
        `spec.mappings.generic.attributes[${i}].external "${a.external}": template "${template.code}" of the other instance has no attribute "${code}"`,
      );
    }
    codes.add(code);
  });
  return [...codes];
}
