/**
 * Template descriptions (`GET /dc/{t}`: folders, attribute codes and types) of one target, kept for a few
 * minutes: every batch needs the attribute types, and a run checks its mappings against them first. A check
 * that fails on a cached description looks again, so that an attribute an admin just added is seen.
 */
import type { DataCards } from './api/data-cards.js';
import type { TemplateInfo } from './api/types.js';

const TTL_MS = 5 * 60_000;

export class TemplateCache {
  private readonly entries = new Map<string, { at: number; info: Promise<TemplateInfo | undefined> }>();

  constructor(private readonly cards: DataCards) {}

  get(code: string, fresh = false): Promise<TemplateInfo | undefined> {
    const hit = this.entries.get(code);
    if (hit && !fresh && Date.now() - hit.at < TTL_MS) return hit.info;
    const info = this.cards.template(code);
    this.entries.set(code, { at: Date.now(), info });
    // A failed call is not remembered.
    info.catch(() => this.entries.delete(code));
    return info;
  }

  /** The template, which must exist (the run's check said so). */
  async require(code: string): Promise<TemplateInfo> {
    const info = await this.get(code);
    if (!info) throw new Error(`the home solution has no template "${code}"`);
    return info;
  }
}
