/**
 * A connector type for the contract kit whose extract plays a script: the records to yield, where to
 * fail, whether to declare the extract complete, which cursors to hand over, when to ask for a resync.
 * It reaches the engine through the injected registry (DESIGN §4), so the engine's side of the contract
 * is tested for what the real types of later issues (Graph delta, LDAP tombstones) will send, before
 * they exist. It records what the engine handed it (mode, cursors) for the assertions.
 */
import type { ConnectorType, ExtractContext, Extraction } from '../../src/connectors/types.js';
import { ExtractError, ResyncRequired } from '../../src/model/errors.js';
import type { Cursors, ExtractedRecord, ExtractOutcome, RecordKind } from '../../src/model/records.js';

export interface Script {
  records: ExtractedRecord[];
  /** Throw ExtractError after this many records. */
  failAfter?: number;
  /** Wait for this promise after this many records (to stop the run mid-stream). */
  pauseAfter?: { records: number; until: Promise<void>; reached: () => void };
  outcome?: ExtractOutcome;
  /** Ask for a resync of this kind when it is handed a cursor for it. */
  resync?: RecordKind;
}

export interface ScriptedType extends ConnectorType {
  scripts: Map<string, Script>;
  /** What each extract was handed, in order. */
  calls: Array<{ mode: ExtractContext['mode']; cursors: Cursors }>;
}

export function scriptedConnectorType(): ScriptedType {
  const scripts = new Map<string, Script>();
  const calls: ScriptedType['calls'] = [];
  return {
    type: 'msgraph', // stands in for a type with every kind, incremental fetch and delete ops
    usages: ['scheduled'],
    incremental: true,
    mappingsTypes: ['identityAndAccess', 'identity', 'access', 'generic'],
    secretRefs: () => [],
    scripts,
    calls,
    extract(ctx): Extraction {
      calls.push({ mode: ctx.mode, cursors: { ...ctx.cursors } });
      const script = scripts.get(ctx.task.metadata.name);
      if (!script) throw new Error(`no script for task ${ctx.task.metadata.name}`);
      return {
        async *[Symbol.asyncIterator]() {
          if (script.resync && ctx.cursors[script.resync] !== undefined) {
            throw new ResyncRequired(script.resync, `the ${script.resync} cursor expired`);
          }
          let n = 0;
          for (const record of script.records) {
            if (script.failAfter === n) throw new ExtractError(`the source broke after ${n} records`);
            if (script.pauseAfter?.records === n) {
              script.pauseAfter.reached();
              await script.pauseAfter.until;
            }
            n++;
            ctx.progress({ records: n, apiCalls: n });
            yield record;
          }
        },
        outcome: () => script.outcome ?? { complete: true },
      };
    },
  };
}
