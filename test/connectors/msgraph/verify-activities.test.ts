/**
 * verifyUser and verifyGroup through the invoke endpoint against the Graph simulator: the $filter Graph gets
 * (OData literals, nested properties, `and`), advanced queries for `ne` (ConsistencyLevel + $count), the answer
 * {found, id?}, and the 400s of a bad condition.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventTaskYaml, type GraphEventWorld, startGraphEventWorld } from './event-fixture.js';

const MAPPINGS = `
    identity:
      template: iga_account
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: displayName, local: display_name}
        - {external: department, local: department}
        - {external: accountEnabled, local: enabled}
        - {external: employeeId, local: employee_no}
        - {external: onPremisesExtensionAttributes.extensionAttribute1, local: cost_center}
        - {external: "businessPhones[0]", local: phone}
    access:
      template: iga_entitlement
      attributes:
        - {external: id, local: object_id, unique: true}
        - {external: displayName, local: display_name}
        - {external: securityEnabled, local: security_enabled}`;

const ADA = '7e6d5c4b-3a29-4180-8f7e-000000000001';
const OBRIEN = '7e6d5c4b-3a29-4180-8f7e-000000000002';
const SALES = '0b9c1d2e-5a1f-4c3b-9d8e-000000000001';
let w: GraphEventWorld;

beforeAll(async () => {
  w = await startGraphEventWorld(() => eventTaskYaml('entra-verify', 'identityAndAccess', ' {timeout: 5s}', MAPPINGS));
  w.sim.dir.addUser({
    id: ADA,
    displayName: 'Ada Lovelace',
    department: 'Research',
    accountEnabled: true,
    employeeId: '1815',
    onPremisesExtensionAttributes: { extensionAttribute1: 'CC-42' },
  });
  w.sim.dir.addUser({ id: OBRIEN, displayName: "Pat O'Brien", department: 'Sales', accountEnabled: false });
  w.sim.dir.addGroup({ id: SALES, displayName: 'Sales', securityEnabled: true });
});

afterAll(() => w.close());
beforeEach(() => w.sim.reset());

const lastRead = () => w.sim.graphCalls().at(-1);

describe('verifyUser', () => {
  it('by default compares the unique attribute with eq, and answers found with the id', async () => {
    const res = await w.invoke('entra-verify', 'verifyUser', { object_id: ADA });
    expect(res.body).toMatchObject({ state: 'Completed', exception: null, response: { found: true, id: ADA } });
    expect(lastRead()?.path).toBe('/v1.0/users');
    expect(lastRead()?.query.get('$filter')).toBe(`id eq '${ADA}'`);
    expect(lastRead()?.headers.consistencylevel).toBeUndefined();
  });

  it('escapes a quote as an OData literal and joins conditions with and', async () => {
    const res = await w.invoke(
      'entra-verify',
      'verifyUser',
      { display_name: "Pat O'Brien", enabled: false },
      { conditions: [{ attribute: 'display_name', operator: 'eq' }, { attribute: 'enabled' }] },
    );
    expect(res.body.response).toEqual({ found: true, id: OBRIEN });
    expect(lastRead()?.query.get('$filter')).toBe("displayName eq 'Pat O''Brien' and accountEnabled eq false");
  });

  it('compares a nested property by its OData path, and a text that looks like a number as text', async () => {
    const res = await w.invoke(
      'entra-verify',
      'verifyUser',
      { cost_center: 'CC-42', employee_no: '1815' },
      { conditions: [{ attribute: 'cost_center' }, { attribute: 'employee_no' }] },
    );
    expect(res.body.response).toEqual({ found: true, id: ADA });
    expect(lastRead()?.query.get('$filter')).toBe(
      "onPremisesExtensionAttributes/extensionAttribute1 eq 'CC-42' and employeeId eq '1815'",
    );
  });

  it('sends ne as an advanced query (ConsistencyLevel: eventual and $count=true)', async () => {
    const res = await w.invoke(
      'entra-verify',
      'verifyUser',
      { department: 'Sales', display_name: 'Ada Lovelace' },
      { conditions: [{ attribute: 'department', operator: 'ne' }, { attribute: 'display_name' }] },
    );
    expect(res.body.response).toEqual({ found: true, id: ADA });
    const read = lastRead();
    expect(read?.query.get('$filter')).toBe("department ne 'Sales' and displayName eq 'Ada Lovelace'");
    expect(read?.query.get('$count')).toBe('true');
    expect(read?.headers.consistencylevel).toBe('eventual');
    expect(read?.status).toBe(200);
  });

  it('keeps a plain query for a value that holds " ne ", and answers found false when nothing matches', async () => {
    const res = await w.invoke(
      'entra-verify',
      'verifyUser',
      { display_name: "Anne ne O'Neil" },
      { conditions: [{ attribute: 'display_name' }] },
    );
    expect(res.body).toMatchObject({ state: 'Completed', response: { found: false } });
    expect(res.body.response.id).toBeUndefined();
    expect(lastRead()?.query.get('$filter')).toBe("displayName eq 'Anne ne O''Neil'");
    expect(lastRead()?.headers.consistencylevel).toBeUndefined();
  });

  it('answers found true without an id when several objects match', async () => {
    const res = await w.invoke(
      'entra-verify',
      'verifyUser',
      { department: 'Nobody' },
      { conditions: [{ attribute: 'department', operator: 'ne' }] },
    );
    expect(res.body.response).toEqual({ found: true });
  });

  it('refuses bad conditions with 400 naming the field, calling Graph for nothing', async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        { x: 1 },
        { conditions: [{ attribute: 'x' }] },
        'input.conditions[0].attribute "x" is not mapped in spec.mappings.identity',
      ],
      [
        {},
        { conditions: [{ attribute: 'department' }] },
        'data.department is required: input.conditions[0] compares it',
      ],
      [
        { department: 'Sales' },
        { conditions: [{ attribute: 'department', operator: 'gt' }] },
        'input.conditions[0].operator must be eq or ne, not "gt"',
      ],
      [
        { phone: '1' },
        { conditions: [{ attribute: 'phone' }] },
        'input.conditions[0].attribute "phone" maps businessPhones[0], which a Graph $filter cannot compare',
      ],
      [{}, { conditions: [] }, 'input.conditions must be a non-empty list of {attribute, operator}'],
      [{}, { filter: 'x' }, 'unknown input field(s) "filter": verifyUser takes conditions'],
      [
        { department: { a: 1 } },
        { conditions: [{ attribute: 'department' }] },
        'data.department must be a text, a number, true, false or null to compare in a $filter',
      ],
      [{}, {}, 'data.object_id is required: verifyUser (the unique attribute, compared by default) compares it'],
    ];
    for (const [data, input, message] of cases) {
      const res = await w.invoke('entra-verify', 'verifyUser', data, input);
      expect(res.status, message).toBe(400);
      expect(res.body.error).toBe(message);
    }
    expect(w.sim.graphCalls()).toEqual([]);
  });

  it("is an Exception with Graph's code and message when Graph refuses the read", async () => {
    w.sim.fault({ path: /^\/v1\.0\/users\?/, status: 403, times: 1 });
    const res = await w.invoke('entra-verify', 'verifyUser', { object_id: ADA });
    expect(res.body).toMatchObject({ state: 'Exception', statusCode: 403 });
    expect(res.body.exception).toContain(
      'answered HTTP 403 Forbidden: Authorization_RequestDenied: Insufficient privileges to complete the operation.',
    );
  });
});

describe('verifyGroup', () => {
  it('compares the access mapping’s properties on /groups', async () => {
    const res = await w.invoke(
      'entra-verify',
      'verifyGroup',
      { display_name: 'Sales', security_enabled: true },
      { conditions: [{ attribute: 'display_name' }, { attribute: 'security_enabled' }] },
    );
    expect(res.body.response).toEqual({ found: true, id: SALES });
    expect(lastRead()?.path).toBe('/v1.0/groups');
    expect(lastRead()?.query.get('$filter')).toBe("displayName eq 'Sales' and securityEnabled eq true");
    const none = await w.invoke(
      'entra-verify',
      'verifyGroup',
      { display_name: 'Sales' },
      { conditions: [{ attribute: 'display_name', operator: 'ne' }] },
    );
    expect(none.body.response).toEqual({ found: false });
  });
});
