/**
 * Durations as the schema writes them (`30s`, `5m`, `1h30m`, `250ms`; see schemas/common.json#duration).
 * Local to the REST connector so that this folder does not depend on a shared helper being built elsewhere.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a schema duration into milliseconds; throws on anything the schema would refuse. */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) {
    throw new Error(`"${text}" is not a duration such as 30s, 5m or 1h30m`);
  }
  let total = 0;
  // `ms` must be tried before `m` so that 250ms is not read as 250 minutes followed by "s".
  for (const match of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(match[1]) * UNIT_MS[match[2]];
  return total;
}
