/** The record → card mapper: values, defaults, stamps, hashes, and attribute names that must stay data. */
import { describe, expect, it } from 'vitest';
import { compileMapping } from '../../src/engine/mapper.js';
import type { TaskMapping } from '../../src/model/resources.js';

const stamps = { taskId: 'iga/hr-employees', connectorType: 'rest' };

function mapping(attributes: TaskMapping['attributes'], extra: Partial<TaskMapping> = {}): TaskMapping {
  return { template: 'employee', attributes, ...extra } as TaskMapping;
}

describe('compileMapping', () => {
  it('maps paths, applies defaults to missing and empty values, and stamps the card', () => {
    const m = compileMapping(
      mapping(
        [
          { external: 'id', local: 'employee_id', unique: true },
          { external: "name['first-name']", local: 'first_name' },
          { external: 'emails.0.value', local: 'email' },
          { external: 'title', local: 'title', default: 'n/a' },
          { external: 'phone', local: 'phone' },
        ],
        { taskIdAttribute: 'task_id', dataSourceTypeAttribute: 'source_type' },
      ),
      [],
      stamps,
    );
    const r = m.map({ id: 7, name: { 'first-name': 'Aino' }, emails: [{ value: 'a@x.example' }], title: '' });
    expect(r.key).toBe('7');
    expect(r.errors).toEqual([]);
    expect(r.card).toEqual({
      employee_id: 7,
      first_name: 'Aino',
      email: 'a@x.example',
      title: 'n/a',
      phone: null,
      task_id: 'iga/hr-employees',
      source_type: 'rest',
    });
    // The JSON the target stores carries the stamps; the hash covers the mapped content only.
    expect(JSON.parse(r.json)).toEqual(r.card);
    const again = compileMapping(mapping([{ external: 'id', local: 'employee_id', unique: true }]), [], stamps);
    expect(again.map({ id: 7 }).hash).not.toBe(r.hash);
    expect(m.map({ id: 7, name: { 'first-name': 'Aino' }, emails: [{ value: 'a@x.example' }] }).hash).toBe(r.hash);
  });

  it('keeps any attribute name as plain data: quotes, backslashes, code-like text, line separators, __proto__', () => {
    const hostile = [
      'a"b',
      'back\\slash',
      '"]; process.exit(1); ["',
      '}); throw new Error("injected"); ({',
      'line\u2028separator',
      '__proto__',
      'constructor',
    ];
    const m = compileMapping(
      mapping([
        { external: 'id', local: 'id', unique: true },
        ...hostile.map((local, i) => ({ external: `v${i}`, local })),
      ]),
      [],
      stamps,
    );
    const record: Record<string, unknown> = { id: 'k1' };
    hostile.forEach((_, i) => {
      record[`v${i}`] = `value ${i}`;
    });
    const r = m.map(record);
    expect(Object.getPrototypeOf(r.card)).toBe(Object.prototype);
    expect(Object.keys(r.card)).toEqual(['id', ...hostile]);
    hostile.forEach((name, i) => {
      expect(Object.getOwnPropertyDescriptor(r.card, name)?.value).toBe(`value ${i}`);
    });
    expect(JSON.parse(r.json)).toEqual(JSON.parse(JSON.stringify(r.card)));
  });

  it('reports a path that yields a list of objects and leaves the attribute at its default', () => {
    const m = compileMapping(
      mapping([
        { external: 'id', local: 'id', unique: true },
        { external: 'emails', local: 'emails', default: 'none' },
      ]),
      [],
      stamps,
    );
    const r = m.map({ id: 'k1', emails: [{ value: 'a@x.example' }] });
    expect(r.card.emails).toBe('none');
    expect(r.errors).toEqual(['emails yields a list of objects; pick an element with .0. or a field of it']);
  });

  it('has no key when the unique attribute is missing, empty or an object', () => {
    const m = compileMapping(mapping([{ external: 'id', local: 'id', unique: true }]), [], stamps);
    expect(m.map({}).key).toBeUndefined();
    expect(m.map({ id: '' }).key).toBeUndefined();
    expect(m.map({ id: { nested: 1 } }).key).toBeUndefined();
    expect(m.map({ id: 0 }).key).toBe('0');
  });
});
