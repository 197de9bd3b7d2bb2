/**
 * Memberships as references: a group's `member` DNs and a user's `memberOf` DNs become the unique values of the
 * records this run read (what `references: access|identity` needs), nested groups included (a group DN in a
 * group's member list or memberOf resolves to that group). A DN the run did not read is counted and reported
 * in the run's extract info, never dropped silently.
 */
import type { RecordKind } from '../types.js';
import { normalDn } from './records.js';

export class DnIndex {
  private readonly keys = new Map<string, string>();
  add(dn: string, key: unknown): void {
    if (typeof key === 'string' || typeof key === 'number') this.keys.set(normalDn(dn), String(key));
  }
  get(dn: string): string | undefined {
    return this.keys.get(normalDn(dn));
  }
  get size(): number {
    return this.keys.size;
  }
}

export interface ReferenceAttribute {
  name: string;
  references: RecordKind;
}

/** Counts what did not resolve, per attribute, for the run's extract info. */
export class Unresolved {
  private readonly outside = new Map<string, { count: number; example: string }>();
  private readonly otherKind = new Map<string, number>();

  notOutside(attr: string, dn: string): void {
    const e = this.outside.get(attr) ?? { count: 0, example: dn };
    e.count++;
    this.outside.set(attr, e);
  }

  notOtherKind(attr: string): void {
    this.otherKind.set(attr, (this.otherKind.get(attr) ?? 0) + 1);
  }

  notes(): string[] {
    const out: string[] = [];
    for (const [attr, { count, example }] of this.outside) {
      out.push(
        `${count} ${attr} ${count === 1 ? 'value names' : 'values name'} entries outside what this run read (such as "${example}"): not loaded as references`,
      );
    }
    for (const [attr, count] of this.otherKind) {
      out.push(
        `${count} ${attr} ${count === 1 ? 'value names' : 'values name'} records of the other kind (nested groups or users): left out of this reference`,
      );
    }
    return out;
  }
}

/** Replaces the DN values of reference attributes by the referenced records' unique values. */
export function resolveReferences(
  data: Record<string, unknown>,
  refs: readonly ReferenceAttribute[],
  indexes: Partial<Record<RecordKind, DnIndex>>,
  unresolved: Unresolved,
): Record<string, unknown> {
  for (const ref of refs) {
    const index = indexes[ref.references];
    const raw = data[ref.name];
    if (!index || raw === undefined) continue;
    const dns = (Array.isArray(raw) ? raw : [raw]).map(String);
    const keys: string[] = [];
    for (const dn of dns) {
      const key = index.get(dn);
      if (key !== undefined) keys.push(key);
      else if (Object.entries(indexes).some(([k, i]) => k !== ref.references && i?.get(dn) !== undefined)) {
        unresolved.notOtherKind(ref.name);
      } else unresolved.notOutside(ref.name, dn);
    }
    data[ref.name] = [...new Set(keys)];
  }
  return data;
}
