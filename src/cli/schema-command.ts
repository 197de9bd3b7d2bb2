/** `provisio schema [connector|task|all]`: JSON Schemas for editors (yaml-language-server, VS Code). */
import { connectorSchema, taskSchema } from '../generated/schemas.js';
import { kindSchema, resourcesSchema } from '../schema/editor-schema.js';
import { UsageError } from './errors.js';

export function schemaCommand(which: string | undefined): void {
  const kind = (which ?? 'all').toLowerCase();
  const schema =
    kind === 'all'
      ? resourcesSchema({ Connector: connectorSchema, Task: taskSchema })
      : /^(connectors?)$/.test(kind)
        ? kindSchema(connectorSchema)
        : /^(tasks?)$/.test(kind)
          ? kindSchema(taskSchema)
          : undefined;
  if (!schema) throw new UsageError(`unknown schema "${which}": use connector, task or all (the default)`);
  process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
}
