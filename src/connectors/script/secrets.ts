/** The keys of a script connector's parametersSecretRef, for the working directory's parameters. */
import type { SecretResolver } from '../../secrets/resolver.js';
import type { ScriptBlock } from './config.js';
import type { SecretsSource } from './workspace.js';

export const parametersSecret =
  (ctx: { secrets: SecretResolver; namespace: string }): SecretsSource =>
  async (block: ScriptBlock) => {
    const ref = block.parametersSecretRef;
    return ref ? ctx.secrets.get(ctx.namespace, ref.name) : {};
  };
