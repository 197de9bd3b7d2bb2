/**
 * The `m42` target: loads go into the home solution through its REST API v1 (shared/reference/m42-rest-api.md),
 * with the WebAPI user of the connector whose task runs (spec.webApi.secretRef). Upserts find cards by the
 * unique attribute and write in bulk PUTs (card-upserts.ts); deletion marking asks the API for this task's
 * cards through EQL; references become `{dataCardId}` values (reference-ids.ts). Before a run, `check` holds
 * the run's mappings against the templates (target-check.ts).
 */
import type { Logger } from '../../log/logger.js';
import type {
  Card,
  CardWrite,
  OwnedCardsQuery,
  Target,
  TargetRequirement,
  UpsertOptions,
  UpsertResult,
} from '../types.js';
import { firstText, plainCard, writeData } from './api/card-values.js';
import { DataCards, MAX_PAGE } from './api/data-cards.js';
import { eqlAnd, eqlAttribute, eqlLiteral } from './api/eql.js';
import { attributeErrorsText } from './api/errors.js';
import type { M42Client } from './api/m42-client.js';
import { CardLookup } from './card-lookup.js';
import { CardUpserts } from './card-upserts.js';
import { ReferenceIds } from './reference-ids.js';
import { templateProblems } from './target-check.js';
import { TemplateCache } from './template-cache.js';

export class M42Target implements Target {
  readonly name = 'm42';
  /** Five bulk PUTs of 200 per batch: no short PUT but the last. */
  readonly batchSize = 5 * MAX_PAGE;
  readonly cards: DataCards;
  private readonly templates: TemplateCache;
  private readonly lookup: CardLookup;
  private readonly upserts: CardUpserts;
  private readonly references: ReferenceIds;

  constructor(
    readonly client: M42Client,
    private readonly log: Logger,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.cards = new DataCards(client);
    this.templates = new TemplateCache(this.cards);
    this.lookup = new CardLookup(this.cards);
    this.upserts = new CardUpserts(this.cards, this.lookup);
    this.references = new ReferenceIds(this.lookup);
  }

  async check(requirements: readonly TargetRequirement[]): Promise<string[]> {
    const problems: string[] = [];
    for (const req of requirements) {
      let found = templateProblems(req, await this.templates.get(req.template));
      // A description up to five minutes old may predate an admin's fix: look once more before failing.
      if (found.length > 0) found = templateProblems(req, await this.templates.get(req.template, true));
      problems.push(...found);
    }
    return problems;
  }

  async upsert(
    template: string,
    folder: string | undefined,
    uniqueAttribute: string,
    cards: CardWrite[],
    options: UpsertOptions = {},
  ): Promise<UpsertResult> {
    const info = await this.templates.require(template);
    const writes = options.references?.length ? await this.withReferenceIds(cards, options.references) : cards;
    const { result, ids } = await this.upserts.upsert({
      template: info,
      folder,
      unique: uniqueAttribute,
      cards: writes,
      options,
    });
    this.references.remember(template, ids);
    return result;
  }

  async *ownedCards(q: OwnedCardsQuery): AsyncIterable<string> {
    const mark = eqlAttribute(q.notMarked.attribute);
    const filter = eqlAnd(
      `${eqlAttribute(q.taskIdAttribute)} = ${eqlLiteral(q.taskId)}`,
      `${mark} IS NULL OR ${mark} != ${eqlLiteral(q.notMarked.value)}`,
    );
    for await (const page of this.cards.pages(q.template, { filter, selectedAttributes: [q.uniqueAttribute] })) {
      for (const card of page) {
        const key = firstText(card, q.uniqueAttribute);
        if (key !== undefined) yield key;
      }
    }
  }

  async markDeleted(
    template: string,
    uniqueAttribute: string,
    keys: string[],
    mark: { attribute: string; value: string },
  ): Promise<number> {
    const info = await this.templates.require(template);
    const found = await this.lookup.find(template, uniqueAttribute, keys);
    const ids = [...found.values()].map((f) => f.dataCardId);
    const data = writeData({ [mark.attribute]: mark.value }, info.attributes);
    let marked = 0;
    for (let i = 0; i < ids.length; i += MAX_PAGE) {
      const answer = await this.cards.bulkPut(
        template,
        ids.slice(i, i + MAX_PAGE).map((dataCardId) => ({ dataCardId, data })),
      );
      for (const item of answer.data ?? []) {
        if (item.dataCard?.dataCardId && !(item.errors ?? []).length) marked++;
        else
          this.log.warn({ template }, `a card could not be marked deleted: ${attributeErrorsText(item.errors ?? [])}`);
      }
    }
    return marked;
  }

  async createCard(template: string, folder: string | undefined, attributes: Card): Promise<void> {
    const info = await this.templates.require(template);
    const folderCode = folder ?? info.allowedFolders?.[0]?.folderCode ?? '';
    const answer = await this.cards.create(template, folderCode, writeData(attributes, info.attributes));
    const errors = answer.meta?.errors ?? [];
    if (errors.length > 0)
      this.log.warn({ template }, `the failure card lacks some attributes: ${attributeErrorsText(errors)}`);
  }

  async *list(template: string): AsyncIterable<Card> {
    const info = await this.templates.require(template);
    const multi = (code: string) => info.attributes?.[code]?.multiValue === true;
    for await (const page of this.cards.pages(template)) for (const card of page) yield plainCard(card, multi);
  }

  async close(): Promise<void> {
    await this.onClose();
  }

  /** The cards with each reference attribute's keys replaced by `{dataCardId}`; unknown keys are dropped and logged. */
  private async withReferenceIds(
    cards: readonly CardWrite[],
    references: NonNullable<UpsertOptions['references']>,
  ): Promise<CardWrite[]> {
    const out = cards.map((c) => ({ key: c.key, attributes: { ...c.attributes } }));
    for (const ref of references) {
      const keys = out.flatMap((c) => asKeys(c.attributes[ref.attribute]));
      const ids = await this.references.resolve(ref.template, ref.uniqueAttribute, keys);
      let unknown = 0;
      for (const c of out) {
        const list = asKeys(c.attributes[ref.attribute]);
        const resolved = list.filter((k) => ids.has(k)).map((k) => ({ dataCardId: ids.get(k) }));
        unknown += list.length - resolved.length;
        c.attributes[ref.attribute] = resolved;
      }
      if (unknown > 0) {
        this.log.warn(
          { attribute: ref.attribute, template: ref.template, unknown },
          `${unknown} values of ${ref.attribute} name no ${ref.template} card; they were left out`,
        );
      }
    }
    return out;
  }
}

function asKeys(value: unknown): string[] {
  if (value === null || value === undefined || value === '') return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== null && v !== '').map(String);
}
