/**
 * The target of a plan (`provisio plan`, ADR 0010): reads through to the real target, records what a run would
 * write instead of writing it. An upsert is a create when the target has no card of that key, an update when it
 * has one, and a restore when that card carries the deletion marking; cards are read once per template to know.
 */
import type {
  Card,
  CardWrite,
  OwnedCardsQuery,
  Target,
  TargetFactory,
  UpsertOptions,
  UpsertResult,
} from '../targets/types.js';

export type PlannedChange = 'create' | 'update' | 'restore' | 'delete';

/** What a plan found, per change: how many, and the first keys in the order the run met them. */
export class PlanRecorder {
  readonly counts: Record<PlannedChange, number> = { create: 0, update: 0, restore: 0, delete: 0 };
  readonly keys: Record<PlannedChange, string[]> = { create: [], update: [], restore: [], delete: [] };
  /** Failure cards the run would write (spec.failure). */
  failureCards = 0;

  constructor(readonly keepKeys = 100) {}

  add(change: PlannedChange, keys: readonly string[]): void {
    this.counts[change] += keys.length;
    const room = this.keepKeys - this.keys[change].length;
    if (room > 0) this.keys[change].push(...keys.slice(0, room));
  }
}

export class PlanTarget implements Target {
  readonly name: string;
  /** Per template: each existing card's key and the value of the restore attribute (undefined: not marked). */
  private readonly known = new Map<string, Map<string, unknown>>();

  constructor(
    private readonly real: Target,
    private readonly recorder: PlanRecorder,
  ) {
    this.name = real.name;
  }

  private async index(template: string, unique: string, attribute: string | undefined): Promise<Map<string, unknown>> {
    let cards = this.known.get(template);
    if (cards) return cards;
    cards = new Map();
    for await (const card of this.real.list(template)) {
      if (card[unique] !== undefined && card[unique] !== null) {
        cards.set(String(card[unique]), attribute ? card[attribute] : undefined);
      }
    }
    this.known.set(template, cards);
    return cards;
  }

  async upsert(
    template: string,
    _folder: string | undefined,
    unique: string,
    cards: CardWrite[],
    options: UpsertOptions = {},
  ): Promise<UpsertResult> {
    const mark = options.restore;
    const known = await this.index(template, unique, mark?.attribute);
    const by: Record<'create' | 'update' | 'restore', string[]> = { create: [], update: [], restore: [] };
    for (const c of cards) {
      if (!known.has(c.key)) by.create.push(c.key);
      else if (mark && known.get(c.key) === mark.value) by.restore.push(c.key);
      else by.update.push(c.key);
      known.set(c.key, mark ? (c.attributes[mark.attribute] ?? mark.restoreValue) : undefined);
    }
    this.recorder.add('create', by.create);
    this.recorder.add('update', by.update);
    this.recorder.add('restore', by.restore);
    // As the real targets count them: a restored card is an updated one too.
    return {
      created: by.create.length,
      updated: by.update.length + by.restore.length,
      restored: by.restore.length,
      failed: [],
    };
  }

  ownedCards(query: OwnedCardsQuery): AsyncIterable<string> {
    return this.real.ownedCards(query);
  }

  async markDeleted(template: string, _unique: string, keys: string[], mark: { attribute: string; value: string }) {
    this.recorder.add('delete', keys);
    const known = this.known.get(template);
    for (const k of keys) known?.set(k, mark.value);
    return keys.length;
  }

  async createCard(): Promise<void> {
    this.recorder.failureCards++;
  }

  list(template: string): AsyncIterable<Card> {
    return this.real.list(template);
  }

  /** The real target belongs to whoever opened it. */
  async close(): Promise<void> {}
}

/** Hands each connector a PlanTarget over its real target. */
export function planTargets(real: TargetFactory, recorder: PlanRecorder): TargetFactory {
  const made = new Map<Target, PlanTarget>();
  return {
    targetFor(connector) {
      const target = real.targetFor(connector);
      let plan = made.get(target);
      if (!plan) {
        plan = new PlanTarget(target, recorder);
        made.set(target, plan);
      }
      return plan;
    },
    close: async () => {},
  };
}
