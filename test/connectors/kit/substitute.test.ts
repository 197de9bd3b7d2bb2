/**
 * `$attr$` / `$ref:attr$` substitution: resolution, URL encoding, JSON escaping in and outside strings, the raw
 * single-token body, date formatting and every injection payload we could think of. Bodies are checked by
 * parsing the result: no value may add, remove or rename a field.
 */
import { describe, expect, it } from 'vitest';
import { dateValueFormatter } from '../../../src/connectors/kit/date-format.js';
import {
  bodyTemplateIsJson,
  DotSegmentError,
  hasTokens,
  resolveToken,
  substituteJson,
  substituteText,
  substituteUrl,
  UnknownAttributeError,
} from '../../../src/connectors/kit/substitute.js';

const url = { where: 'input.url' };
const body = { where: 'input.body' };

const data = {
  id: '42',
  name: 'Ada',
  age: 36,
  active: true,
  nothing: null,
  groups: ['admins', 'ops'],
  profile: { city: 'Oulu' },
  reference: { manager: { mail: 'boss@example.com', id: 7 }, reference: { x: 'literal' } },
};

const PAYLOADS = [
  'plain',
  'quote " inside',
  'back\\slash',
  '","admin":true,"x":"',
  '"}',
  '"},{"admin":true',
  'line\nbreak\r\ttab',
  '</script><script>alert(1)</script>',
  'ünïcödé ✓ 中文',
  'emoji 🎉👩‍💻',
  '\u0000\u001f\u2028\u2029',
  '$id$',
  '%24id%24',
  '\\u0022',
  "' OR 1=1 --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a login placeholder as a value, on purpose
  '${token}',
];

describe('resolveToken', () => {
  const token = (name: string) => {
    const colon = name.indexOf(':');
    return colon < 0
      ? { name, attribute: name }
      : { name, reference: name.slice(0, colon), attribute: name.slice(colon + 1) };
  };

  it('$attr$ reads data.attr; $ref:attr$ reads data.reference.ref.attr', () => {
    expect(resolveToken(token('name'), data, 'x')).toBe('Ada');
    expect(resolveToken(token('manager:mail'), data, 'x')).toBe('boss@example.com');
    expect(resolveToken(token('reference:x'), data, 'x')).toBe('literal');
    expect(resolveToken(token('nothing'), data, 'x')).toBeNull();
  });

  it('unknown attributes and references name themselves and where they were used', () => {
    expect(() => resolveToken(token('foo'), data, 'input.url')).toThrow('unknown attribute "foo" in input.url');
    expect(() => resolveToken(token('manager:phone'), data, 'input.body')).toThrow(
      'unknown attribute "manager:phone" in input.body (data.reference.manager has no "phone")',
    );
    expect(() => resolveToken(token('owner:mail'), data, 'input.body')).toThrow(
      'unknown attribute "owner:mail" in input.body (data.reference has no "owner")',
    );
    expect(() => resolveToken(token('owner:mail'), { id: 1 }, 'input.url')).toThrow(UnknownAttributeError);
  });

  it('inherited properties are not attributes', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => resolveToken(token(name), data, 'input.url')).toThrow(`unknown attribute "${name}"`);
    }
    expect(() => resolveToken(token('manager:constructor'), data, 'input.url')).toThrow(UnknownAttributeError);
    expect(() => resolveToken(token('constructor:name'), data, 'input.url')).toThrow(UnknownAttributeError);
  });
});

describe('substituteUrl', () => {
  it('percent-encodes each value as one component', () => {
    expect(substituteUrl('/users/$id$/groups?name=$name$&m=$manager:mail$', data, url)).toBe(
      '/users/42/groups?name=Ada&m=boss%40example.com',
    );
  });

  it('slashes, question marks, hashes, ampersands and percent signs in values stay encoded', () => {
    const d = { v: 'a/b?c=d#e&f=%2F..' };
    expect(substituteUrl('/x/$v$?q=$v$', d, url)).toBe(
      '/x/a%2Fb%3Fc%3Dd%23e%26f%3D%252F..?q=a%2Fb%3Fc%3Dd%23e%26f%3D%252F..',
    );
  });

  it('arrays are joined with commas, then encoded; numbers, booleans, null and objects', () => {
    expect(substituteUrl('/g/$groups$', data, url)).toBe('/g/admins%2Cops');
    expect(substituteUrl('/a/$age$/$active$/$nothing$/', data, url)).toBe('/a/36/true//');
    expect(substituteUrl('/p?x=$profile$', data, url)).toBe('/p?x=%7B%22city%22%3A%22Oulu%22%7D');
  });

  it('%24 is never decoded and a lone $ is literal', () => {
    expect(substituteUrl('/u/%24id%24/$id$?$top=5&cost=5$', data, url)).toBe('/u/%24id%24/42?$top=5&cost=5$');
    expect(substituteUrl('/u/$$id$$', data, url)).toBe('/u/$42$');
  });

  it('values that look like tokens are not substituted again', () => {
    expect(substituteUrl('/u/$v$', { v: '$id$' }, url)).toBe('/u/%24id%24');
  });

  it.each(['.', '..'])('a value %j that makes a whole dot segment is refused', (v) => {
    expect(() => substituteUrl('/users/$v$/x', { v }, url)).toThrow(DotSegmentError);
    expect(() => substituteUrl('/users/$v$/x', { v }, url)).toThrow(
      'the value of "v" would make a "." or ".." path segment in input.url',
    );
  });

  it('dots inside a segment, and dot segments written in the template, are left to the URL check', () => {
    expect(substituteUrl('/files/$v$.json', { v: '..' }, url)).toBe('/files/...json');
    expect(() => substituteUrl('/files/.$v$', { v: '.' }, url)).toThrow(DotSegmentError);
    expect(substituteUrl('/a/../b/$id$', data, url)).toBe('/a/../b/42');
    expect(substituteUrl('/q?x=$v$', { v: '..' }, url)).toBe('/q?x=..');
  });

  it('formats dates with the formatter it is given', () => {
    const formatString = dateValueFormatter({ dateFormat: 'dd.MM.yyyy' });
    expect(substituteUrl('/d/$d$', { d: '2024-03-05' }, { ...url, formatString })).toBe('/d/05.03.2024');
  });

  it('unknown attributes throw', () => {
    expect(() => substituteUrl('/u/$foo$', data, url)).toThrow('unknown attribute "foo" in input.url');
  });
});

describe('substituteJson', () => {
  it('inside strings: escaped text; outside: JSON values', () => {
    const out = substituteJson(
      '{"name": "$name$ ($id$)", "age": $age$, "active": $active$, "none": $nothing$, "groups": $groups$, ' +
        '"profile": $profile$, "boss": "$manager:mail$", "bossId": $manager:id$, "idAsValue": $id$}',
      data,
      body,
    );
    expect(JSON.parse(out)).toEqual({
      name: 'Ada (42)',
      age: 36,
      active: true,
      none: null,
      groups: ['admins', 'ops'],
      profile: { city: 'Oulu' },
      boss: 'boss@example.com',
      bossId: 7,
      idAsValue: '42',
    });
  });

  it('arrays and objects inside strings become text', () => {
    const out = substituteJson('{"g": "$groups$", "p": "$profile$", "n": "$nothing$"}', data, body);
    expect(JSON.parse(out)).toEqual({ g: 'admins,ops', p: '{"city":"Oulu"}', n: '' });
  });

  it.each(PAYLOADS)('payload %j cannot leave its string', (v) => {
    const out = substituteJson('{"a": "x$v$y", "b": "$v$", "c": 1}', { v }, body);
    expect(JSON.parse(out)).toEqual({ a: `x${v}y`, b: v, c: 1 });
  });

  it.each(PAYLOADS)('payload %j outside a string is one JSON string', (v) => {
    const out = substituteJson('{"a": $v$, "list": [$v$, $v$]}', { v }, body);
    expect(JSON.parse(out)).toEqual({ a: v, list: [v, v] });
  });

  it.each(PAYLOADS)('payload %j in a key stays one key', (v) => {
    const out = substituteJson('{"$v$": 1, "fixed": 2}', { v }, body);
    expect(JSON.parse(out)).toEqual({ [v]: 1, fixed: 2 });
  });

  it('JSON-looking strings outside a string are quoted, not inserted raw', () => {
    const v = '1, "admin": true';
    expect(JSON.parse(substituteJson('{"a": $v$}', { v }, body))).toEqual({ a: v });
    const obj = '{"admin": true}';
    expect(JSON.parse(substituteJson('{"a": $v$}', { v: obj }, body))).toEqual({ a: obj });
  });

  it('escaped quotes in the template do not end its strings', () => {
    const out = substituteJson('{"say": "he said \\"$name$\\"", "n": $age$}', data, body);
    expect(JSON.parse(out)).toEqual({ say: 'he said "Ada"', n: 36 });
  });

  describe('a body that is exactly one token', () => {
    it('an object or array value is inserted raw', () => {
      expect(substituteJson('$profile$', data, body)).toBe('{"city":"Oulu"}');
      expect(substituteJson('  $groups$\n', data, body)).toBe('["admins","ops"]');
    });

    it('a string holding a JSON object or array is inserted raw, as written', () => {
      const doc = '{ "displayName": "Ada", "accountEnabled": true, "nested": {"a": [1, 2]} }';
      expect(substituteJson('$doc$', { doc }, body)).toBe(doc);
      expect(substituteJson(' $doc$ ', { doc: '[1,2]' }, body)).toBe('[1,2]');
    });

    it('other values follow the usual rules', () => {
      expect(substituteJson('$v$', { v: '{not json' }, body)).toBe('"{not json"');
      expect(substituteJson('$v$', { v: 'text' }, body)).toBe('"text"');
      expect(substituteJson('$v$', { v: 12 }, body)).toBe('12');
      expect(substituteJson('$v$', { v: null }, body)).toBe('null');
      expect(substituteJson('"$v$"', { v: '{"a":1}' }, body)).toBe('"{\\"a\\":1}"');
    });

    it('a reference token works too', () => {
      expect(substituteJson('$manager:doc$', { reference: { manager: { doc: { a: 1 } } } }, body)).toBe('{"a":1}');
    });
  });

  it('dates inside and outside strings and in arrays are formatted; objects are left alone', () => {
    const formatString = dateValueFormatter({ dateFormat: 'dd.MM.yyyy', dateTimeFormat: "HH:mm 'on' dd.MM." });
    const d = { born: '1990-07-04', at: '2024-03-05T10:20:30+02:00', days: ['2024-01-02'], obj: { d: '2024-01-02' } };
    const out = substituteJson('{"b": "$born$", "at": $at$, "days": $days$, "obj": $obj$}', d, {
      ...body,
      formatString,
    });
    expect(JSON.parse(out)).toEqual({ b: '04.07.1990', at: '10:20 on 05.03.', days: ['02.01.2024'], obj: d.obj });
  });

  it('unknown attributes throw naming the body', () => {
    expect(() => substituteJson('{"a": "$foo$"}', data, body)).toThrow('unknown attribute "foo" in input.body');
  });

  it('tells JSON templates from others (tokens count as values)', () => {
    expect(bodyTemplateIsJson('{"a": $x$, "b": "$y$"}')).toEqual({ json: true, error: undefined });
    expect(bodyTemplateIsJson('$x$')).toEqual({ json: true, error: undefined });
    expect(bodyTemplateIsJson('name=$x$').json).toBe(false);
    expect(bodyTemplateIsJson('{"a": }').error).toMatch(/JSON|token/i);
  });
});

describe('substituteText', () => {
  it('plain text and form encoding for non-JSON bodies', () => {
    expect(substituteText('name=$name$&q=$v$', { name: 'Ada', v: 'a&b=c d' }, { ...body, form: true })).toBe(
      'name=Ada&q=a%26b%3Dc%20d',
    );
    expect(substituteText('Hello $name$!', data, body)).toBe('Hello Ada!');
  });
});

it('hasTokens', () => {
  expect(hasTokens('/users/$id$')).toBe(true);
  expect(hasTokens('/users/%24id%24')).toBe(false);
  expect(hasTokens('$a.b$')).toBe(false);
  expect(hasTokens('$ref:attr$')).toBe(true);
  expect(hasTokens('$a:b:c$')).toBe(false);
});
