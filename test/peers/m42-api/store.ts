/**
 * The data of the simulated home solution: templates with their folders and attributes, data cards, the
 * trash, ids, and the one write path every call goes through (POST, bulk PUT items, PATCH, attribute calls and
 * `api.insert`), so that every write is checked the same way.
 *
 * Choices where the reference is silent:
 * - dataCardIds are numbers, unique across all templates, handed out in increasing order from `firstId`
 *   (default 1) and never reused (reset() starts again).
 * - A write is all or nothing per card: any per-attribute error leaves the card as it was (not created).
 * - A write REPLACES the values of the attributes it names (`values: []` clears) and keeps the others; the
 *   attribute POST call adds instead. A single-value attribute given more than one value is an error.
 * - Unique attributes (template option, not shown in the template JSON): a value used by another card of the
 *   same template that is not in the trash is refused ("Value: V of unique attribute: NAME is already used by
 *   data card: ID"); comparison is exact (case-sensitive). Cards in the trash keep their values but free them.
 * - The card name is the first value of the template's `nameAttribute` (default: its first unique attribute,
 *   else its first string attribute), else "<template name> <id>".
 * - Cards in the trash cannot be modified (the server answers 409, a bulk item gets an error).
 * - An attribute hidden from the writing user (User.hidden) is refused per attribute ("User is not allowed to
 *   update attribute: NAME", error "Forbidden"); filters see it as empty.
 */
import type { EqlPredicate, EqlRow, EqualityHint } from './eql.js';
import {
  type AttributeDef,
  type AttributeError,
  type AttributeType,
  attributeError,
  checkValue,
  primitive,
  type StoredValue,
} from './values.js';

export interface AttributeConfig {
  type: AttributeType;
  name?: string;
  multiValue?: boolean;
  unique?: boolean;
  values?: Array<{ code: string | null; value: string }>;
  target?: string[];
}

export interface TemplateConfig {
  code: string;
  name?: string;
  /** templateId in card JSON (default: position + 1). */
  id?: number;
  /** The attribute whose first value is the card's name. */
  nameAttribute?: string;
  folders: Array<{ code: string; name?: string }>;
  attributes: Record<string, AttributeConfig>;
}

export interface Template {
  id: number;
  code: string;
  name: string;
  folders: Map<string, string>;
  attributes: Map<string, AttributeDef>;
  nameAttribute?: string;
  /** Ids of its cards, ascending. */
  ids: number[];
}

export interface StoredCard {
  id: number;
  template: string;
  folder: string;
  deleted: boolean;
  hidden: boolean;
  values: Map<string, StoredValue[]>;
}

export type WriteOutcome = { ok: true; card: StoredCard; created: boolean } | { ok: false; errors: AttributeError[] };

export interface WriteInput {
  /** Absent: create. */
  card?: StoredCard;
  folderCode?: unknown;
  data: unknown;
  /** `add`: the attribute POST call (append values instead of replacing). */
  mode?: 'replace' | 'add';
  /** Attributes the writing user may not see: writing one is a per-attribute error. */
  hidden?: ReadonlySet<string>;
}

const itemError = (message: string): AttributeError => attributeError(undefined, null, message);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class Store {
  readonly templates = new Map<string, Template>();
  private readonly cards = new Map<number, StoredCard>();
  /** template → unique attribute → value → id of the live card holding it. */
  private readonly unique = new Map<string, Map<string, Map<string, number>>>();
  private nextId: number;
  private readonly files = new Map<string, { name: string; bytes: Buffer }>();

  constructor(
    configs: TemplateConfig[],
    private readonly firstId = 1,
  ) {
    this.nextId = firstId;
    configs.forEach((c, i) => {
      this.templates.set(c.code, toTemplate(c, i));
    });
    for (const t of this.templates.values()) {
      for (const a of t.attributes.values()) {
        for (const target of a.target) {
          if (!this.templates.has(target)) {
            throw new Error(`attribute ${t.code}.${a.code} references template '${target}', which is not configured`);
          }
        }
      }
    }
    this.reset();
  }

  reset(): void {
    this.cards.clear();
    this.files.clear();
    this.nextId = this.firstId;
    this.unique.clear();
    for (const t of this.templates.values()) {
      t.ids = [];
      const byAttr = new Map<string, Map<string, number>>();
      for (const a of t.attributes.values()) if (a.unique) byAttr.set(a.code, new Map());
      this.unique.set(t.code, byAttr);
    }
  }

  card(id: number): StoredCard | undefined {
    return this.cards.get(id);
  }

  cardName(card: StoredCard): string {
    const t = this.templates.get(card.template)!;
    const first = t.nameAttribute ? card.values.get(t.nameAttribute)?.[0] : undefined;
    if (first) return String(primitive(first, (id) => this.refName(id)));
    return `${t.name} ${card.id}`;
  }

  private refName(id: number): string {
    const c = this.cards.get(id);
    // A reference's own name attribute could be a reference again; one level is what a name needs.
    if (!c) return String(id);
    const t = this.templates.get(c.template)!;
    const first = t.nameAttribute ? c.values.get(t.nameAttribute)?.[0] : undefined;
    if (first && !('dataCardId' in first)) return String(primitive(first, String));
    return `${t.name} ${c.id}`;
  }

  /** The card as EQL sees it. */
  row(card: StoredCard, hidden?: ReadonlySet<string>): EqlRow {
    const t = this.templates.get(card.template)!;
    const store = this;
    return {
      id: card.id,
      get name() {
        return store.cardName(card);
      },
      deleted: card.deleted,
      hidden: card.hidden,
      folderCode: card.folder,
      folderName: t.folders.get(card.folder) ?? card.folder,
      templateCode: t.code,
      templateName: t.name,
      values: (code) =>
        hidden?.has(code) ? [] : (card.values.get(code) ?? []).map((v) => primitive(v, (id) => this.refName(id))),
    };
  }

  /**
   * Cards of a template in descending id, below `below` (0: no bound), trashed ones only when asked. An
   * equality hint on a unique text attribute is answered from the unique index (live cards only).
   */
  *query(
    template: string,
    o: {
      predicate?: EqlPredicate;
      includeDeleted?: boolean;
      below?: number;
      hints?: EqualityHint[];
      /** Attributes the caller may not see: empty to the predicate. */
      hidden?: ReadonlySet<string>;
    } = {},
  ): Generator<StoredCard> {
    const t = this.templates.get(template);
    const hint = o.includeDeleted
      ? undefined
      : o.hints?.find((h) => {
          const a = t?.attributes.get(h.code);
          return a?.unique && a.type === 'string';
        });
    const ids = hint ? this.indexed(template, hint) : (t?.ids ?? []);
    let i = ids.length - 1;
    if (o.below && o.below > 0) i = lowerBound(ids, o.below) - 1;
    for (; i >= 0; i--) {
      const card = this.cards.get(ids[i])!;
      if (card.deleted && !o.includeDeleted) continue;
      if (o.predicate && o.predicate(this.row(card, o.hidden)) !== true) continue;
      yield card;
    }
  }

  /** Ids of the live cards holding one of the hint's values, ascending. */
  private indexed(template: string, hint: EqualityHint): number[] {
    const byValue = this.unique.get(template)?.get(hint.code);
    const ids = new Set<number>();
    for (const v of hint.values) {
      const id = byValue?.get(String(v));
      if (id !== undefined) ids.add(id);
    }
    return [...ids].sort((a, b) => a - b);
  }

  /** Keeps an uploaded file; its location. */
  addFile(name: string, bytes: Buffer): string {
    const location = `file-${this.files.size + 1}`;
    this.files.set(location, { name, bytes });
    return location;
  }

  file(location: string): { name: string; bytes: Buffer } | undefined {
    return this.files.get(location);
  }

  /** Moves a card to the trash; false when it was there already. */
  trash(card: StoredCard): boolean {
    if (card.deleted) return false;
    card.deleted = true;
    this.unindex(card);
    return true;
  }

  /** The one write path: checks everything, then creates or changes the card, or changes nothing. */
  write(login: string, now: () => number, template: Template, input: WriteInput): WriteOutcome {
    const errors: AttributeError[] = [];
    const folder = this.checkFolder(template, input, errors);
    if (input.card?.deleted) errors.push(itemError(`Data card ${input.card.id} is in the trash`));
    if (!isObject(input.data)) {
      errors.push(itemError('data must be an object of attribute codes to {values: [...]}'));
      return { ok: false, errors };
    }
    const ctx = { cardTemplate: (id: number) => this.cards.get(id)?.template, login, now };
    const changes = new Map<string, StoredValue[]>();
    for (const [code, entry] of Object.entries(input.data)) {
      const attr = template.attributes.get(code);
      if (!attr) {
        errors.push(
          attributeError(undefined, code, `Couldn't find attribute with code: ${code} from template: ${template.name}`),
        );
        continue;
      }
      if (input.hidden?.has(code)) {
        errors.push({
          ...attributeError(attr, code, `User is not allowed to update attribute: ${attr.name}`),
          error: 'Forbidden',
        });
        continue;
      }
      const values = isObject(entry) ? entry.values : undefined;
      if (!Array.isArray(values)) {
        errors.push(attributeError(attr, code, `Attribute: ${attr.name} must be written as {values: [...]}`));
        continue;
      }
      const checked: StoredValue[] = [];
      for (const item of values) {
        const c = checkValue(item, attr, ctx);
        if (c.ok) checked.push(c.value);
        else errors.push(attributeError(attr, code, c.message));
      }
      const existing = input.card?.values.get(code) ?? [];
      const next = input.mode === 'add' || attr.type === 'worklog' ? [...existing, ...checked] : checked;
      if (!attr.multiValue && next.length > 1) {
        errors.push(
          attributeError(
            attr,
            code,
            `Attribute: ${attr.name} is not multi-value, but ${next.length} values were given`,
          ),
        );
      }
      changes.set(code, next);
    }
    this.checkUnique(template, input.card, changes, errors);
    if (errors.length > 0) return { ok: false, errors };
    return this.apply(template, input.card, folder!, changes);
  }

  private checkFolder(template: Template, input: WriteInput, errors: AttributeError[]): string | undefined {
    const given = input.folderCode;
    if (given === undefined || given === null) {
      if (input.card) return input.card.folder;
      errors.push(itemError('folderCode is required to create a data card'));
      return undefined;
    }
    if (typeof given !== 'string' || !template.folders.has(given)) {
      errors.push(itemError(`Folder '${String(given)}' is not allowed for template '${template.code}'`));
      return undefined;
    }
    return given;
  }

  private checkUnique(
    template: Template,
    card: StoredCard | undefined,
    changes: Map<string, StoredValue[]>,
    errors: AttributeError[],
  ): void {
    const index = this.unique.get(template.code)!;
    for (const [code, values] of changes) {
      const byValue = index.get(code);
      if (!byValue) continue;
      const attr = template.attributes.get(code)!;
      for (const v of values) {
        const key = String(primitive(v, String));
        const owner = byValue.get(key);
        if (owner !== undefined && owner !== card?.id) {
          errors.push(
            attributeError(
              attr,
              code,
              `Value: ${key} of unique attribute: ${attr.name} is already used by data card: ${owner}`,
            ),
          );
        }
      }
    }
  }

  private apply(
    template: Template,
    existing: StoredCard | undefined,
    folder: string,
    changes: Map<string, StoredValue[]>,
  ): WriteOutcome {
    const card: StoredCard = existing ?? {
      id: this.nextId++,
      template: template.code,
      folder,
      deleted: false,
      hidden: false,
      values: new Map(),
    };
    this.unindex(card);
    card.folder = folder;
    for (const [code, values] of changes) {
      if (values.length === 0) card.values.delete(code);
      else card.values.set(code, values);
    }
    if (!existing) {
      this.cards.set(card.id, card);
      template.ids.push(card.id);
    }
    this.index(card);
    return { ok: true, card, created: !existing };
  }

  private index(card: StoredCard): void {
    if (card.deleted) return;
    for (const [code, byValue] of this.unique.get(card.template)!) {
      for (const v of card.values.get(code) ?? []) byValue.set(String(primitive(v, String)), card.id);
    }
  }

  private unindex(card: StoredCard): void {
    for (const [code, byValue] of this.unique.get(card.template)!) {
      for (const v of card.values.get(code) ?? []) {
        const key = String(primitive(v, String));
        if (byValue.get(key) === card.id) byValue.delete(key);
      }
    }
  }
}

/** The first index whose id is >= id (ids ascending). */
function lowerBound(ids: number[], id: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function toTemplate(c: TemplateConfig, i: number): Template {
  const attributes = new Map<string, AttributeDef>();
  for (const [code, a] of Object.entries(c.attributes)) {
    attributes.set(code, {
      code,
      name: a.name ?? code,
      type: a.type,
      multiValue: a.multiValue ?? false,
      unique: a.unique ?? false,
      values: a.values ?? [],
      target: a.target ?? [],
    });
  }
  const defs = [...attributes.values()];
  const nameAttribute =
    c.nameAttribute ?? defs.find((a) => a.unique)?.code ?? defs.find((a) => a.type === 'string')?.code;
  if (nameAttribute !== undefined && !attributes.has(nameAttribute)) {
    throw new Error(`template ${c.code}: nameAttribute '${nameAttribute}' is not one of its attributes`);
  }
  return {
    id: c.id ?? i + 1,
    code: c.code,
    name: c.name ?? c.code,
    folders: new Map(c.folders.map((f) => [f.code, f.name ?? f.code])),
    attributes,
    nameAttribute,
    ids: [],
  };
}
