/**
 * The script type's own validation rules, beyond schemas/connectors/script.json: secrets written into
 * `parameters`, script paths that leave the connector's folder, and a task's source block against its
 * mappings. Messages never repeat a value that looks like a secret.
 */
import { isAbsolute, normalize } from 'node:path';
import type { Connector, Task } from '../../model/resources.js';
import type { TypeFinding } from '../types.js';
import { mappingOf } from './config.js';

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Parameter names that hold credentials, whatever their value. */
const SECRET_NAME = /passw(or)?d|secret|token|api[-_]?key|private[-_]?key|credential/i;

export function validateScriptConnector(connector: Connector): TypeFinding[] {
  const block = connector.spec?.script as unknown;
  if (!isMap(block)) return [];
  const out: TypeFinding[] = [];
  const params = block.parameters;
  if (isMap(params)) {
    for (const [name, value] of Object.entries(params)) {
      if (!SECRET_NAME.test(name) || typeof value !== 'string' || value === '') continue;
      out.push({
        path: ['spec', 'script', 'parameters', name],
        at: 'key',
        severity: 'error',
        message:
          `parameter "${name}" holds a secret written inline; secrets are never written in resources: remove it, put ` +
          `key ${name} in the Secret that spec.script.parametersSecretRef names (its keys are added to the parameters)`,
      });
    }
  }
  const source = block.source;
  const path = isMap(source) ? source.path : undefined;
  if (typeof path === 'string' && path !== '') {
    if (isAbsolute(path) || normalize(path).split(/[\\/]/)[0] === '..') {
      out.push({
        path: ['spec', 'script', 'source', 'path'],
        severity: 'error',
        message: `script path "${path}" leaves the folder of this file; write a path relative to it, to a script inside it`,
      });
    }
  }
  return out;
}

export function validateScriptTask(task: Task, _connector: Connector): TypeFinding[] {
  const source = task.spec?.source?.script as unknown;
  const mapping = mappingOf(task);
  if (!isMap(source) || !mapping || !Array.isArray(mapping.attributes)) return [];
  const out: TypeFinding[] = [];
  const externals = new Set(mapping.attributes.map((a) => a?.external));
  const unique = mapping.attributes.find((a) => a?.unique)?.external;
  const ua = source.uniqueAttribute;
  if (typeof ua === 'string' && unique !== undefined && ua !== unique) {
    out.push({
      path: ['spec', 'source', 'script', 'uniqueAttribute'],
      severity: 'error',
      message: `uniqueAttribute "${ua}" is not the external attribute of the mapping marked unique ("${unique}"); rows are identified by that one: make them the same`,
    });
  }
  const multi = source.multivalue;
  if (Array.isArray(multi)) {
    multi.forEach((name, i) => {
      if (typeof name === 'string' && !externals.has(name)) {
        out.push({
          path: ['spec', 'source', 'script', 'multivalue', i],
          severity: 'warning',
          message: `"${name}" is not an external attribute of the mappings; the script is told only about mapped attributes`,
        });
      }
    });
  }
  return out;
}
