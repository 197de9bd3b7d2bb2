/** Diagnostics: one finding about one field of one file, printed as `file:line:col  field  message`. */

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number;
  col: number;
  /** Field path such as spec.rest.auth.type or spec.mappings.generic.attributes[2].external. */
  field: string;
  message: string;
  /** The resource the finding belongs to, when known (Kind namespace/name). */
  resource?: string;
}

export type PathSegment = string | number;

export function formatField(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(document)' : out;
}

export function formatDiagnostic(d: Diagnostic): string {
  const tag = d.severity === 'warning' ? 'warning: ' : '';
  // Resources read from the Kubernetes API have no file: the field path says where.
  if (!d.file) return `${d.field}  ${tag}${d.message}`;
  return `${d.file}:${d.line}:${d.col}  ${d.field}  ${tag}${d.message}`;
}

export const byLocation = (a: Diagnostic, b: Diagnostic): number =>
  a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.field.localeCompare(b.field);

/** Levenshtein distance, for "did you mean" hints on typos. */
function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** The closest candidate within a typo's reach, compared case-insensitively. */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(value.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  const reach = Math.max(1, Math.ceil(value.length / 3));
  return best !== undefined && bestScore <= reach ? best : undefined;
}

export const didYouMean = (value: string, candidates: readonly string[]): string => {
  const c = closest(value, candidates);
  return c ? ` (did you mean "${c}"?)` : '';
};
