/**
 * verifyUser / verifyGroup: does an object exist whose Graph properties compare as the conditions say with the
 * card's values? input {conditions?: [{attribute: <local name>, operator?: eq | ne}]}, by default the mapping's
 * unique attribute with eq (the seeds' "IF" expression). Each condition becomes `<property> <op> <literal>`,
 * the property the mapped external path in OData form (`onPremisesExtensionAttributes/extensionAttribute1`), the
 * value from `data` as an OData literal (a string quoted with its quotes doubled; numbers, booleans and null
 * bare), joined with `and`: `GET /users?$filter=…&$select=id&$top=2`. A `ne` makes it an advanced query, which
 * findIds sends with `ConsistencyLevel: eventual` and `$count=true`. → response {found: true|false, id?} (the
 * id when exactly one object matched).
 */
import type { TaskMapping } from '../../../model/resources.js';
import { pathSegments } from '../../kit/activity/mapping.js';
import { isRecord } from '../../kit/markers.js';
import { type ActionHandler, InvalidInvocationError, type InvokeData } from '../../types.js';
import { onlyInput, requireMapping } from './mapping.js';
import { COLLECTION, findIds, odataPath, odataString } from './resolve.js';
import { activity, completed } from './run.js';

const OPERATORS = ['eq', 'ne'] as const;
type Operator = (typeof OPERATORS)[number];

interface Condition {
  attribute: string;
  operator: Operator;
  /** What compares the attribute, for messages: `input.conditions[0]`, or the default. */
  by?: string;
}

/** The input's conditions, or the default one (the unique attribute, eq); 400 naming the field when malformed. */
function readConditions(name: string, input: Record<string, unknown>, mapping: TaskMapping, kind: string): Condition[] {
  onlyInput(name, input, ['conditions']);
  if (input.conditions === undefined) {
    const unique = mapping.attributes?.find((a) => a.unique);
    if (!unique) {
      throw new InvalidInvocationError(
        `${name} needs input.conditions, as spec.mappings.${kind} has no unique attribute to compare by default`,
      );
    }
    return [{ attribute: unique.local, operator: 'eq', by: `${name} (the unique attribute, compared by default)` }];
  }
  if (!Array.isArray(input.conditions) || input.conditions.length === 0) {
    throw new InvalidInvocationError('input.conditions must be a non-empty list of {attribute, operator}');
  }
  return input.conditions.map((c: unknown, i) => {
    const at = `input.conditions[${i}]`;
    if (!isRecord(c)) throw new InvalidInvocationError(`${at} must be an object {attribute, operator}`);
    const extra = Object.keys(c).filter((k) => k !== 'attribute' && k !== 'operator');
    if (extra.length > 0) {
      throw new InvalidInvocationError(`${at} has unknown field(s) ${extra.map((k) => `"${k}"`).join(', ')}`);
    }
    if (typeof c.attribute !== 'string' || c.attribute === '') {
      throw new InvalidInvocationError(`${at}.attribute must name a card attribute (a local name of the mapping)`);
    }
    const operator = c.operator ?? 'eq';
    if (!(OPERATORS as readonly unknown[]).includes(operator)) {
      throw new InvalidInvocationError(`${at}.operator must be eq or ne, not ${JSON.stringify(operator)}`);
    }
    return { attribute: c.attribute, operator: operator as Operator };
  });
}

/** A value of `data` as an OData literal. */
function literal(value: unknown, where: string): string {
  if (typeof value === 'string') return odataString(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean' || value === null) return String(value);
  throw new InvalidInvocationError(`${where} must be a text, a number, true, false or null to compare in a $filter`);
}

/** The `$filter` of the conditions; 400 for an attribute that is not mapped, not comparable or not in data. */
function conditionFilter(conditions: Condition[], mapping: TaskMapping, kind: string, data: InvokeData): string {
  return conditions
    .map((c, i) => {
      const mapped = mapping.attributes?.find((a) => a.local === c.attribute);
      if (!mapped) {
        throw new InvalidInvocationError(
          `input.conditions[${i}].attribute "${c.attribute}" is not mapped in spec.mappings.${kind}`,
        );
      }
      const segments = pathSegments(mapped.external);
      if (!segments || segments.some((s) => typeof s === 'number')) {
        throw new InvalidInvocationError(
          `input.conditions[${i}].attribute "${c.attribute}" maps ${mapped.external}, which a Graph $filter cannot compare`,
        );
      }
      if (data[c.attribute] === undefined) {
        throw new InvalidInvocationError(
          `data.${c.attribute} is required: ${c.by ?? `input.conditions[${i}]`} compares it`,
        );
      }
      return `${odataPath(mapped.external)} ${c.operator} ${literal(data[c.attribute], `data.${c.attribute}`)}`;
    })
    .join(' and ');
}

function verify(name: string, kind: 'identity' | 'access'): ActionHandler {
  return (ctx, input, data) => {
    const mapping = requireMapping(ctx.task, kind, name);
    const filter = conditionFilter(readConditions(name, input, mapping, kind), mapping, kind, data);
    return activity(ctx, async (run) => {
      const ids = await findIds(run, COLLECTION[kind], filter, 2);
      return completed(200, ids.length === 1 ? { found: true, id: ids[0] } : { found: ids.length > 0 });
    });
  };
}

export const verifyUser = verify('verifyUser', 'identity');
export const verifyGroup = verify('verifyGroup', 'access');
