import { describe, expect, it } from 'vitest';
import { mergePatch } from '../../src/state/kubernetes-status-store.js';

describe('status merge patches', () => {
  it('sends nothing when nothing changed', () => {
    const status = { phase: 'Idle', conditions: [{ type: 'Ready', status: 'True' }], lastRun: { id: 'r1' } };
    expect(mergePatch(structuredClone(status), structuredClone(status))).toBeUndefined();
  });

  it('sends only the changed fields, nested maps as partial maps and arrays whole', () => {
    const from = { phase: 'Running', lastRun: { id: 'r1', extract: { status: 'Running', records: 10 } }, history: [1] };
    const to = { phase: 'Idle', lastRun: { id: 'r1', extract: { status: 'Succeeded', records: 10 } }, history: [2, 1] };
    expect(mergePatch(from, to)).toEqual({
      phase: 'Idle',
      lastRun: { extract: { status: 'Succeeded' } },
      history: [2, 1],
    });
  });

  it('removes what disappeared with null (RFC 7386)', () => {
    expect(mergePatch({ phase: 'Idle', nextRunTime: '2026-11-23T00:00:00Z' }, { phase: 'Suspended' })).toEqual({
      phase: 'Suspended',
      nextRunTime: null,
    });
  });
});
