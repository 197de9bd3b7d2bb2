/**
 * M42 connector: data cards of another instance of the home solution (seed 001).
 * Capabilities only so far: validation and scheduling know what this type supports; its extract
 * and actions are added in this folder without touching the engine.
 */

import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';

export const m42Connector: ConnectorType = {
  type: 'm42',
  usages: ['scheduled', 'event'],
  incremental: false,
  mappingsTypes: ['generic'],
  secretRefs: connectorSecretRefs('m42'),
};
