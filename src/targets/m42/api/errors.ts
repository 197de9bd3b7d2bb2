/**
 * What the home solution's REST API answered when it refused a call, in its own words: ApiException
 * `{code, message, error, url, timestamp}` for call errors, `{attributeCode, message, ...}` per attribute.
 */
import type { AttributeError } from './types.js';

export class M42ApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status; 0 when no answer came. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'M42ApiError';
  }
}

/** `404 Not Found: Template 'x' was not found` from an error body (JSON or text), scrubbed by the caller. */
export function apiErrorText(status: number, body: string): string {
  let detail = body.trim();
  try {
    const json = JSON.parse(body) as { message?: unknown; error?: unknown };
    const parts = [json.error, json.message].filter((p): p is string => typeof p === 'string' && p !== '');
    if (parts.length > 0) detail = [...new Set(parts)].join(': ');
  } catch {
    // Not JSON (a proxy's HTML page, say): the text itself, shortened.
  }
  if (detail.length > 300) detail = `${detail.slice(0, 300)}…`;
  return detail ? `HTTP ${status} ${detail}` : `HTTP ${status}`;
}

/** `status: Couldn't find static-value ...; owner: ...`: the per-attribute errors of one card. */
export function attributeErrorsText(errors: readonly AttributeError[]): string {
  return errors
    .map((e) => {
      const what = e.message ?? e.error ?? 'refused';
      return e.attributeCode ? `${e.attributeCode}: ${what}` : what;
    })
    .join('; ');
}
