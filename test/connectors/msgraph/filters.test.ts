/** The filter settings as Graph parameters, and the local evaluation of filters on delta results. */
import { describe, expect, it } from 'vitest';
import { compileLocalFilter, LocalFilterError } from '../../../src/connectors/msgraph/local-filter.js';
import { FilterSettingError, parseFilterSetting, withQuery } from '../../../src/connectors/msgraph/query.js';

describe('usersFilter / groupsFilter', () => {
  it('takes a bare expression as $filter, plain or advanced', () => {
    expect(parseFilterSetting('accountEnabled eq true')).toEqual({
      params: [['$filter', 'accountEnabled eq true']],
      filter: 'accountEnabled eq true',
      search: undefined,
      advanced: undefined,
    });
    expect(parseFilterSetting("department ne 'IT'").advanced).toBe('ne');
    // An operator word inside a quoted value is not the operator.
    expect(parseFilterSetting("displayName eq 'x ne y'").advanced).toBeUndefined();
  });

  it('takes the seeds’ query strings, decoding their values, and adds $count=true to advanced ones', () => {
    const q = parseFilterSetting("$count=true&$filter=endsWith(mail,'%40x.com')");
    expect(q.params).toEqual([
      ['$filter', "endsWith(mail,'@x.com')"],
      ['$count', 'true'],
    ]);
    expect(parseFilterSetting('$search="displayName:sales"').params).toEqual([
      ['$search', '"displayName:sales"'],
      ['$count', 'true'],
    ]);
    expect(() => parseFilterSetting('$select=id&$filter=a eq 1')).toThrow(FilterSettingError);
  });

  it('encodes values with %20, never +', () => {
    const url = withQuery(new URL('https://graph.microsoft.com/v1.0/users'), [['$filter', "a eq 'b c&d'"]]);
    expect(url.search).toBe('?$filter=a%20eq%20%27b%20c%26d%27');
  });
});

describe('local evaluation on delta results', () => {
  const user = { id: 'u1', mail: 'Ada@X.com', accountEnabled: true, department: null, ext: { attr1: 'A' } };

  it('evaluates comparisons, functions, in, not, and/or with parentheses, case-insensitively', () => {
    const f = compileLocalFilter(
      "accountEnabled eq true and (endsWith(mail,'@x.com') or startsWith(mail,'zz')) and not(department ne null)",
    );
    expect(f.properties.sort()).toEqual(['accountEnabled', 'department', 'mail']);
    expect(f.matches(user)).toBe(true);
    expect(f.matches({ ...user, accountEnabled: false })).toBe(false);
    expect(compileLocalFilter("ext/attr1 in ('a','b')").matches(user)).toBe(true);
    expect(compileLocalFilter("mail eq 'o''brien@x.com'").matches({ mail: "O'Brien@x.com" })).toBe(true);
  });

  it('refuses what it cannot evaluate, saying what', () => {
    expect(() => compileLocalFilter("assignedLicenses/any(x:x/skuId eq 'a')")).toThrow(LocalFilterError);
    expect(() => compileLocalFilter("contains(mail,'x')")).toThrow('contains() cannot be evaluated on delta results');
    expect(() => compileLocalFilter('mail has 1')).toThrow('the operator "has" cannot be evaluated on delta results');
  });
});
