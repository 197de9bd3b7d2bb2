/**
 * Generic Python script connector (seed 003).
 * Capabilities only so far: validation and scheduling know what this type supports; its extract
 * and actions are added in this folder without touching the engine.
 */

import { connectorSecretRefs } from '../secret-refs.js';
import type { ConnectorType } from '../types.js';

export const scriptConnector: ConnectorType = {
  type: 'script',
  usages: ['scheduled', 'event'],
  incremental: false,
  mappingsTypes: ['generic'],
  secretRefs: connectorSecretRefs('script'),
};
