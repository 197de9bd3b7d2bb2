import { describe, expect, it } from 'vitest';
import { scimAttribute } from '../../../src/connectors/scim/attributes.js';
import { allOf, modifiedAfter, scimString } from '../../../src/connectors/scim/filter.js';

describe('SCIM filter values', () => {
  it('escapes " and \\ in string values', () => {
    expect(scimString('2026-11-01T00:00:00Z')).toBe('"2026-11-01T00:00:00Z"');
    expect(scimString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(modifiedAfter('x" or "1" eq "1')).toBe('meta.lastModified gt "x\\" or \\"1\\" eq \\"1"');
  });

  it('combines filters with and, each in parentheses', () => {
    expect(allOf('active eq true', undefined)).toBe('active eq true');
    expect(allOf(undefined, ' ')).toBeUndefined();
    expect(allOf('a eq 1', 'b eq 2')).toBe('(a eq 1) and (b eq 2)');
  });

  it('names the SCIM attribute a mapping path reads', () => {
    expect(scimAttribute('name.givenName')).toBe('name');
    expect(scimAttribute('groups[*].value')).toBe('groups');
    expect(scimAttribute("['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department")).toBe(
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
    );
  });
});
