/**
 * Generic Python script connector (seed 003): a customer's script reads any system for scheduled tasks
 * (extract.ts: the seeds' argument set, heartbeat, output file) and acts on it for event tasks (actions.ts:
 * the "Execute Custom Backend Task" node, two lines on stdin). Seed-style scripts run unchanged with the
 * helper modules in python/ on their PYTHONPATH.
 */

import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';
import { runScriptAction } from './actions.js';
import { checkScriptConnection } from './check.js';
import { extractScript } from './extract.js';
import { validateScriptConnector, validateScriptTask } from './validation.js';

export type { ScriptActionOptions } from './actions.js';
export { runScriptAction } from './actions.js';
export type { ScriptRuntimeOptions } from './extract.js';
export { extractScript } from './extract.js';
export { HELPER_DIR } from './workspace.js';

const runScript = runScriptAction();

export const scriptConnector: ConnectorType = {
  type: 'script',
  usages: ['scheduled', 'event'],
  incremental: false,
  mappingsTypes: ['generic'],
  secretRefs: connectorSecretRefs('script'),
  validateConnector: validateScriptConnector,
  validateTask: validateScriptTask,
  extract: (ctx) => extractScript(ctx),
  checkConnection: (ctx) => checkScriptConnection(ctx),
  // The seeds call the workflow node "Execute Custom Backend Task": both names run the script.
  actions: { runScript, executeCustomBackendTask: runScript },
};
