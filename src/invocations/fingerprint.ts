/**
 * What an Idempotency-Key is bound to (ADR 0007): the SHA-256 of the canonical JSON (keys sorted, so that the
 * order a workflow engine serializes them in does not matter) of the call's activity, input and data, each
 * hashed on its own so that a refusal can say which one differs. The task is part of the store's key.
 */
import { createHash } from 'node:crypto';
import type { CallFingerprint } from '../state/idempotency.js';
import type { InvokeRequest } from './invoke-request.js';

export function callFingerprint(request: InvokeRequest): CallFingerprint {
  return { activity: sha256(request.activity), input: sha256(request.input), data: sha256(request.data) };
}

const sha256 = (value: unknown): string => createHash('sha256').update(canonicalJson(value)).digest('hex');

/** JSON with object keys sorted at every level; undefined members dropped, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
