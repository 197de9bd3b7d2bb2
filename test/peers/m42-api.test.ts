/**
 * Pins the behaviour of the REST API simulator (test/peers/m42-api/) over HTTP, with the statuses and bodies of
 * shared/reference/m42-rest-api.md (and the documented choices where it is silent). If one of these fails,
 * the simulator drifted from the reference, and the client tests against it prove less.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, FormData, fetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_USER, type M42Api, startM42Api, type TemplateConfig } from './m42-api/index.js';
import { createTestPki } from './tls.js';

const TEMPLATES: TemplateConfig[] = [
  {
    code: 'person',
    name: 'Person',
    folders: [
      { code: 'people', name: 'People' },
      { code: 'archive', name: 'Archive' },
    ],
    attributes: {
      efecte_id: { type: 'string', name: 'Efecte ID', unique: true },
      full_name: { type: 'string', name: 'Full name' },
      age: { type: 'number', name: 'Age' },
      birthday: { type: 'date', name: 'Birthday' },
      updated: { type: 'datetime', name: 'Updated' },
      status: {
        type: 'static-value',
        name: 'Status',
        values: [
          { code: 'active', value: '01 - Active' },
          { code: 'deleted', value: '05 - Deleted' },
        ],
      },
      manager: { type: 'reference', name: 'Manager', target: ['person'] },
      groups: { type: 'reference', name: 'Groups', multiValue: true, target: ['group'] },
      valid_from: { type: 'static-value', name: 'Valid from', values: [{ code: null, value: '02.02.2011' }] },
      tags: { type: 'string', name: 'Tags', multiValue: true },
      task_id: { type: 'string', name: 'Task Id' },
      notes: { type: 'worklog', name: 'Notes' },
      photo: { type: 'external-reference', name: 'Photo' },
    },
  },
  {
    code: 'group',
    name: 'Group',
    folders: [{ code: 'groups', name: 'Groups' }],
    attributes: { efecte_id: { type: 'string', name: 'Efecte ID', unique: true }, title: { type: 'string' } },
  },
];

const READER = { login: 'reader', password: 'reader-pw', canWrite: ['group'] };
const LIMITED = { login: 'limited', password: 'limited-pw', hidden: { person: ['age'] } };

let api: M42Api;

beforeAll(async () => {
  api = await startM42Api({
    templates: TEMPLATES,
    users: [DEFAULT_USER, READER, LIMITED],
    tokenTtlSeconds: 600,
    maxFileBytes: 1024,
  });
});
afterAll(async () => {
  await api.stop();
});
beforeEach(() => {
  api.reset();
});

async function login(user = DEFAULT_USER): Promise<string> {
  const res = await fetch(`${api.url}/users/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: user.login, password: user.password }).toString(),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token: string };
  return body.token.replace(/^Bearer /, '');
}

// biome-ignore lint/suspicious/noExplicitAny: bodies are JSON whose shape the assertions check
type Json = any;

interface Answer {
  status: number;
  body: Json;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  o: { token?: string | null; query?: Record<string, string | number>; body?: unknown } = {},
): Promise<Answer> {
  const token = o.token === undefined ? await login() : o.token;
  const url = new URL(`${api.url}${path}`);
  for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers as Headers };
}

const ISO = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

function people(n: number): number[] {
  return Array.from({ length: n }, (_, i) => api.insert('person', 'people', { efecte_id: `P-${i + 1}` }).dataCardId);
}

describe('login and tokens', () => {
  it('answers a form login with the token in the body and the Authorization header; exp is iat + ttl', async () => {
    const res = await fetch(`${api.url}/users/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'login=webapi&password=webapi-secret',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toEqual({
      code: 200,
      message: 'Login successful',
      timestamp: ISO,
      token: expect.stringMatching(/^Bearer eyJ/),
    });
    expect(res.headers.get('authorization')).toBe(body.token);
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1], 'base64url').toString());
    expect(claims.sub).toBe('webapi');
    expect(claims.exp - claims.iat).toBe(600);
    expect(api.requests.at(-1)?.body).toEqual({ login: 'webapi', password: '***' });
    expect(JSON.stringify(api.requests)).not.toContain('webapi-secret');
  });

  it('refuses wrong credentials with 401 and a login that is not a form with 415', async () => {
    const wrong = await fetch(`${api.url}/users/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'login=webapi&password=nope',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      code: 401,
      message: 'Invalid login or password',
      error: 'Unauthorized',
      url: '/rest-api/itsm/v1/users/login',
      timestamp: ISO,
    });
    const json = await fetch(`${api.url}/users/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'webapi', password: 'webapi-secret' }),
    });
    expect(json.status).toBe(415);
  });

  it('needs a valid bearer token everywhere but login and /echo', async () => {
    const echo = await call('GET', '/echo', { token: null, query: { message: 'hello' } });
    expect(echo).toMatchObject({ status: 200, body: { code: 200, message: 'hello', timestamp: ISO } });
    const missing = await call('GET', '/echo/jwt', { token: null, query: { message: 'x' } });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({
      code: 401,
      message: 'JWT token is missing',
      error: 'Unauthorized',
      url: '/rest-api/itsm/v1/echo/jwt',
      timestamp: ISO,
    });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const token = await login();
    const [head, claims] = token.split('.');
    const forged = `${head}.${claims}.${Buffer.from('not the signature').toString('base64url')}`;
    expect((await call('GET', '/dc', { token: forged })).body.message).toBe('JWT token is invalid');
    expect((await call('GET', '/echo/jwt', { token, query: { message: 'ok' } })).body.message).toBe('ok');
  });

  it('refuses a token after its exp, and every token after expireTokens()', async () => {
    const token = await login();
    // exp has whole seconds (iat is floored), so 'just before' keeps a margin a slow machine cannot eat;
    // 600 s in total is past exp however late in its second the login came.
    api.advanceClock(590);
    expect((await call('GET', '/dc', { token })).status).toBe(200);
    api.advanceClock(10);
    const expired = await call('GET', '/dc', { token });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe('JWT token has expired');
    const fresh = await login();
    api.expireTokens();
    expect((await call('GET', '/dc', { token: fresh })).status).toBe(401);
    expect((await call('GET', '/dc', { token: await login() })).status).toBe(200);
  });
});

describe('templates', () => {
  it('lists templates and describes one without saying which attributes are unique', async () => {
    const token = await login();
    expect((await call('GET', '/dc', { token })).body).toEqual([
      { name: 'Person', templateCode: 'person', url: '/dc/person' },
      { name: 'Group', templateCode: 'group', url: '/dc/group' },
    ]);
    const person = (await call('GET', '/dc/person', { token })).body;
    expect(person.name).toBe('Person');
    expect(person.code).toBe('person');
    expect(person.allowedFolders).toEqual([
      { folderName: 'People', folderCode: 'people' },
      { folderName: 'Archive', folderCode: 'archive' },
    ]);
    expect(person.attributes.efecte_id).toEqual({
      name: 'Efecte ID',
      multiValue: false,
      type: 'string',
      file: false,
      values: [],
      target: [],
    });
    expect(person.attributes.updated.type).toBe('date');
    expect(person.attributes.status.values).toEqual([
      { code: 'active', value: '01 - Active' },
      { code: 'deleted', value: '05 - Deleted' },
    ]);
    expect(person.attributes.groups).toMatchObject({ multiValue: true, type: 'reference', target: ['group'] });
    expect(person.attributes.photo.file).toBe(true);
    expect(JSON.stringify(person)).not.toContain('unique');
  });

  it('answers 404 with an ApiException for an unknown template', async () => {
    const res = await call('GET', '/dc/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      code: 404,
      message: "Couldn't find template with code: nope",
      error: 'Not Found',
      url: '/rest-api/itsm/v1/dc/nope',
      timestamp: ISO,
    });
    expect((await call('GET', '/dc/nope/data', { query: { limit: 5 } })).status).toBe(404);
  });
});

describe('paged lists', () => {
  it('pages in descending dataCardId with filterId and meta.links.next until there is no next', async () => {
    const ids = people(5);
    const token = await login();
    const first = await call('GET', '/dc/person/data', { token, query: { limit: 2, dataCards: 'true' } });
    expect(first.status).toBe(200);
    expect(first.body.data.map((c: { dataCardId: number }) => c.dataCardId)).toEqual([ids[4], ids[3]]);
    expect(first.body.meta).toEqual({
      count: 2,
      limit: 2,
      links: { next: `${api.url}/dc/person/data?limit=2&dataCards=true&filterId=${ids[3]}` },
    });
    const second = await fetch(first.body.meta.links.next, { headers: { authorization: `Bearer ${token}` } });
    const page2 = (await second.json()) as Json;
    expect(page2.data.map((c: { dataCardId: number }) => c.dataCardId)).toEqual([ids[2], ids[1]]);
    const last = await call('GET', '/dc/person/data', {
      token,
      query: { limit: 2, dataCards: 'true', filterId: ids[1] },
    });
    expect(last.body.data.map((c: { dataCardId: number }) => c.dataCardId)).toEqual([ids[0]]);
    expect(last.body.meta).toEqual({ count: 1, limit: 2, links: {} });
    // A page that ends exactly at the last card has no next either.
    const exact = await call('GET', '/dc/person/data', { token, query: { limit: 5 } });
    expect(exact.body.meta.links).toEqual({});
  });

  it('requires limit 1..200 and refuses a bad filterId or dataCards', async () => {
    const token = await login();
    const missing = await call('GET', '/dc/person/data', { token });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({
      code: 400,
      error: 'Bad Request',
      message: "Required request parameter 'limit' is not present",
    });
    for (const limit of ['0', '201', 'ten', '2.5']) {
      const res = await call('GET', '/dc/person/data', { token, query: { limit } });
      expect(res.status, limit).toBe(400);
      expect(res.body.message).toBe(`Parameter 'limit' must be an integer from 1 to 200, not '${limit}'`);
    }
    expect((await call('GET', '/dc/person/data', { token, query: { limit: 200 } })).status).toBe(200);
    expect((await call('GET', '/dc/person/data', { token, query: { limit: 1, filterId: -1 } })).status).toBe(400);
    expect((await call('GET', '/dc/person/data', { token, query: { limit: 1, dataCards: 'yes' } })).status).toBe(400);
  });

  it('answers info elements unless dataCards=true, and only selectedAttributes (spaces allowed)', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1', full_name: 'Ann', age: 41 });
    const token = await login();
    const info = await call('GET', '/dc/person/data', { token, query: { limit: 10 } });
    expect(info.body.data).toEqual([
      { dataCardId: card.dataCardId, name: 'P-1', url: `/dc/person/data/${card.dataCardId}` },
    ]);
    const selected = await call('GET', '/dc/person/data', {
      token,
      query: { limit: 10, dataCards: 'true', selectedAttributes: 'full_name, age' },
    });
    expect(selected.body.data[0]).toEqual({
      name: 'P-1',
      dataCardId: card.dataCardId,
      templateName: 'Person',
      templateCode: 'person',
      templateId: 1,
      folderName: 'People',
      folderCode: 'people',
      hidden: false,
      deleted: false,
      data: {
        full_name: { name: 'Full name', type: 'string', values: [{ value: 'Ann' }] },
        age: { name: 'Age', type: 'number', values: [{ value: 41 }] },
      },
    });
    const unknown = await call('GET', '/dc/person/data', { token, query: { limit: 1, selectedAttributes: 'nope' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe("Couldn't find attribute with code: nope from template: Person");
  });

  it('streams every card at once', async () => {
    const ids = people(3);
    const res = await call('GET', '/dc/person/data/stream', { query: { filter: "$efecte_id$ != 'P-2'" } });
    expect(res.status).toBe(200);
    expect(res.body.meta).toEqual({ count: 2 });
    expect(res.body.data.map((c: { dataCardId: number }) => c.dataCardId)).toEqual([ids[2], ids[0]]);
  });
});

describe('EQL filters', () => {
  let ids: Record<string, number>;
  beforeEach(() => {
    const group = api.insert('group', 'groups', { efecte_id: 'G-1', title: 'Admins' }).dataCardId;
    const ann = api.insert('person', 'people', {
      efecte_id: 'P-1',
      full_name: "Ann O'Neil",
      age: 41,
      birthday: '1984-02-03',
      status: { values: [{ code: 'active' }] },
      tags: ['a', 'b'],
      task_id: 'task-1',
      groups: [group],
      updated: new Date(api.now()).toISOString(),
    }).dataCardId;
    const bob = api.insert('person', 'archive', {
      efecte_id: 'P-2',
      full_name: 'Bob',
      age: 9,
      status: { values: [{ code: 'deleted' }] },
      task_id: 'task-1',
      manager: ann,
      updated: '2000-01-01T00:00:00Z',
    }).dataCardId;
    const cy = api.insert('person', 'people', {
      efecte_id: 'P-3',
      full_name: 'Cy_x',
      age: 100,
      task_id: 'task-2',
    }).dataCardId;
    const gone = api.insert('person', 'people', { efecte_id: 'P-4', task_id: 'task-1' }).dataCardId;
    api.trash(gone);
    ids = { ann, bob, cy, gone };
  });

  const cases: Array<[string, string[]]> = [
    ["$efecte_id$ = 'P-1'", ['ann']],
    ["$full_name$ = 'Ann O''Neil'", ['ann']],
    ["$efecte_id$ != 'P-1'", ['cy', 'bob']],
    ["$efecte_id$ <> 'P-1'", ['cy', 'bob']],
    ['$age$ > 9', ['cy', 'ann']],
    ['$age$ >= 9 AND $age$ < 100', ['bob', 'ann']],
    ["$age$ <= '41'", ['bob', 'ann']],
    ["$efecte_id$ IN ('P-1', 'P-3', 'P-9')", ['cy', 'ann']],
    ["$efecte_id$ NOT IN ('P-1', 'P-3')", ['bob']],
    ["$full_name$ LIKE 'A%'", ['ann']],
    ["$full_name$ LIKE 'B_b'", ['bob']],
    ["$full_name$ LIKE 'Cy\\_x'", []],
    ["$full_name$ NOT LIKE '%o%'", ['cy', 'ann']],
    ['$birthday$ IS NULL', ['cy', 'bob']],
    ['$birthday$ IS NOT NULL', ['ann']],
    ["$birthday$ < '2000-01-01'", ['ann']],
    ["$status$ = '05 - Deleted'", ['bob']],
    // Three-valued logic: an empty status is neither = nor != a value.
    ["$status$ != '05 - Deleted'", ['ann']],
    ["$task_id$ = 'task-1' AND ($status$ IS NULL OR $status$ != '05 - Deleted')", ['ann']],
    ["NOT $efecte_id$ = 'P-1'", ['cy', 'bob']],
    ["NOT ($efecte_id$ = 'P-1' OR $efecte_id$ = 'P-2')", ['cy']],
    ["$efecte_id$ = 'P-1' OR $efecte_id$ = 'P-2' AND $age$ > 50", ['ann']],
    ["($efecte_id$ = 'P-1' OR $efecte_id$ = 'P-2') AND $age$ < 50", ['bob', 'ann']],
    ["$tags$ = 'b'", ['ann']],
    ["$manager$ = 'P-1'", ['bob']],
    ["$groups$ = 'G-1'", ['ann']],
    ["entity.folder.code = 'archive'", ['bob']],
    ["entity.template.code = 'person' and $age$ = 100", ['cy']],
    ['entity.deleted = 0', ['cy', 'bob', 'ann']],
    ['entity.deleted = 1', ['gone']],
    ["entity.deleted = 1 OR $efecte_id$ = 'P-1'", ['gone', 'ann']],
    ["$task_id$ = 'task-1'", ['bob', 'ann']],
    // Unique values come from the index, which holds no trashed card unless the filter asks for them.
    ["$efecte_id$ = 'P-4'", []],
    ["entity.deleted = 1 AND $efecte_id$ = 'P-4'", ['gone']],
    ["$efecte_id$ IN ('P-1', 'P-2') AND $age$ > 10", ['ann']],
    // Relative date literals; a date literal against a datetime attribute is midnight UTC.
    ["$updated$ >= 'start_week'", ['ann']],
    ["$updated$ < 'today'", ['bob']],
    ["$updated$ > '1999-12-31'", ['bob', 'ann']],
  ];

  it.each(cases)('%s', async (filter, expected) => {
    const res = await call('GET', '/dc/person/data', { query: { limit: 50, filter } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.map((c: { dataCardId: number }) => c.dataCardId)).toEqual(expected.map((k) => ids[k]));
  });

  it('filters by entity.id and combines with filterId paging', async () => {
    const res = await call('GET', '/dc/person/data', { query: { limit: 1, filter: `entity.id >= ${ids.ann}` } });
    expect(res.body.data.map((c: { dataCardId: number }) => c.dataCardId)).toEqual([ids.cy]);
    expect(res.body.meta.links.next).toContain(`filterId=${ids.cy}`);
    expect(res.body.meta.links.next).toContain(`filter=entity.id+%3E%3D+${ids.ann}`);
  });

  const refused: Array<[string, string]> = [
    ["$efecte_id$ = 'P-1", 'Invalid filter: unterminated string literal starting at position 15'],
    [
      "$efecte_id$ = 'P-1' AND",
      'Invalid filter: unexpected end of filter at position 24, expected an attribute ($code$), a field or a literal',
    ],
    ["($efecte_id$ = 'P-1'", "Invalid filter: unexpected end of filter at position 21, expected ')'"],
    ['$efecte_id$ IN ()', "Invalid filter: unexpected ')' at position 17, expected a literal"],
    ["$nope$ = 'x'", "Invalid filter: unknown attribute $nope$ in template 'person'"],
    [
      "SELECT entity FROM entity WHERE $efecte_id$ = 'P-1'",
      "Invalid filter: unexpected 'SELECT' at position 1, expected an attribute ($code$), a field or a literal (the filter takes only the WHERE part of an EQL query)",
    ],
    [
      "$efecte_id$ == 'x'",
      "Invalid filter: unexpected '=' at position 14, expected an attribute ($code$), a field or a literal",
    ],
  ];

  it.each(refused)('refuses %s with 400', async (filter, message) => {
    const res = await call('GET', '/dc/person/data', { query: { limit: 5, filter } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code: 400,
      message,
      error: 'Bad Request',
      url: '/rest-api/itsm/v1/dc/person/data',
      timestamp: ISO,
    });
  });
});

describe('create', () => {
  it('creates a card with POST (201) and reads it back in the API shapes', async () => {
    const group = api.insert('group', 'groups', { efecte_id: 'G-1', title: 'Admins' }).dataCardId;
    const res = await call('POST', '/dc/person/data', {
      body: {
        folderCode: 'people',
        data: {
          efecte_id: { values: [{ value: 'P-1' }] },
          age: { values: [{ value: '42' }] },
          birthday: { values: [{ value: '1984-02-03' }] },
          updated: { values: [{ value: '2021-03-24T12:57:57.250+02:00' }] },
          status: { values: [{ value: '01 - Active', code: 'active' }] },
          groups: { values: [{ dataCardId: group }] },
          photo: { values: [{ name: 'me.png', location: 'files/1' }] },
          notes: { values: [{ value: 'created' }] },
          valid_from: { values: [{ value: '02.02.2011' }] },
        },
      },
    });
    expect(res.status).toBe(201);
    const id = res.body.dataCard.dataCardId;
    expect(res.body).toEqual({
      meta: {
        timestamp: ISO,
        url: '/rest-api/itsm/v1/dc/person/data',
        errors: [],
        createdReferences: [],
        importResult: { handledDataCards: 1, savedDataCards: 1, notSavedDataCards: 0 },
      },
      dataCard: { dataCardId: id, name: 'P-1', url: `/dc/person/data/${id}` },
    });
    const card = (await call('GET', `/dc/person/data/${id}`)).body;
    expect(card.data.age).toEqual({ name: 'Age', type: 'number', values: [{ value: 42 }] });
    expect(card.data.updated).toEqual({ name: 'Updated', type: 'date', values: [{ value: '2021-03-24T10:57:57Z' }] });
    expect(card.data.birthday.values).toEqual([{ value: '1984-02-03' }]);
    expect(card.data.status.values).toEqual([{ value: '01 - Active', code: 'active' }]);
    expect(card.data.groups.values).toEqual([
      {
        name: 'G-1',
        dataCardId: group,
        templateName: 'Group',
        templateCode: 'group',
        deleted: false,
        hidden: false,
        url: `/dc/group/data/${group}`,
      },
    ]);
    expect(card.data.photo.values).toEqual([{ name: 'me.png', location: 'files/1' }]);
    expect(card.data.notes.values).toEqual([{ author: 'webapi', value: 'created', date: expect.stringMatching(/Z$/) }]);
    expect(card.data.full_name).toEqual({ name: 'Full name', type: 'string', values: [] });
    expect(card.data.valid_from.values).toEqual([{ value: '02.02.2011', code: null }]);
  });

  it('returns the full card with dataCards=true', async () => {
    const res = await call('POST', '/dc/person/data', {
      query: { dataCards: 'true' },
      body: { folderCode: 'people', data: { efecte_id: { values: [{ value: 'P-1' }] } } },
    });
    expect(res.body.dataCard).toMatchObject({
      name: 'P-1',
      templateCode: 'person',
      folderCode: 'people',
      deleted: false,
    });
  });

  it('requires an allowed folderCode (400)', async () => {
    const data = { efecte_id: { values: [{ value: 'P-1' }] } };
    const none = await call('POST', '/dc/person/data', { body: { data } });
    expect(none.status).toBe(400);
    expect(none.body.message).toBe('folderCode is required to create a data card');
    const other = await call('POST', '/dc/person/data', { body: { folderCode: 'groups', data } });
    expect(other.status).toBe(400);
    expect(other.body.message).toBe("Folder 'groups' is not allowed for template 'person'");
    const bad = await call('POST', '/dc/person/data', { body: '{"folderCode": ' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('Invalid JSON.');
    expect(api.cards('person')).toEqual([]);
  });

  it('refuses a duplicate unique value and a static value that does not exist (400 with meta.errors, nothing saved)', async () => {
    api.insert('person', 'people', { efecte_id: 'P-1' });
    const res = await call('POST', '/dc/person/data', {
      body: {
        folderCode: 'people',
        data: {
          efecte_id: { values: [{ value: 'P-1' }] },
          status: { values: [{ value: 'att_value', code: 'att_code' }] },
        },
      },
    });
    expect(res.status).toBe(400);
    const errors = [
      {
        attributeCode: 'status',
        attributeType: 'static-value',
        message: "Couldn't find static-value with value: att_value and code: att_code from attribute: Status",
        error: 'Bad Request',
      },
      {
        attributeCode: 'efecte_id',
        attributeType: 'string',
        message: 'Value: P-1 of unique attribute: Efecte ID is already used by data card: 1',
        error: 'Bad Request',
      },
    ];
    expect(res.body).toEqual({
      code: 400,
      message: `Data card was not saved: ${errors.map((e) => e.message).join('; ')}`,
      error: 'Bad Request',
      url: '/rest-api/itsm/v1/dc/person/data',
      timestamp: ISO,
      meta: { timestamp: ISO, url: '/rest-api/itsm/v1/dc/person/data', errors },
    });
    expect(api.cards('person')).toHaveLength(1);
  });
});

describe('bulk PUT', () => {
  it('creates and modifies in one call, with per-item errors and importResult', async () => {
    const existing = api.insert('person', 'people', { efecte_id: 'P-1', full_name: 'Ann', age: 41, tags: ['a'] });
    const res = await call('PUT', '/dc/person/data', {
      body: [
        { folderCode: 'people', data: { efecte_id: { values: [{ value: 'P-2' }] } } },
        { dataCardId: existing.dataCardId, data: { full_name: { values: [{ value: 'Anna' }] }, tags: { values: [] } } },
        { folderCode: 'people', data: { efecte_id: { values: [{ value: 'P-2' }] } } },
        { folderCode: 'people', data: { efecte_id: { values: [{ value: 'P-3' }] }, nope: { values: [{ value: 1 }] } } },
        {
          folderCode: 'people',
          data: { efecte_id: { values: [{ value: 'P-4' }] }, manager: { values: [{ dataCardId: 999 }] } },
        },
        { dataCardId: 998, data: {} },
        { data: { efecte_id: { values: [{ value: 'P-5' }] } } },
        { folderCode: 'people', data: { efecte_id: { values: [{ value: 'P-6' }, { value: 'P-7' }] } } },
      ],
    });
    expect(res.status).toBe(200);
    const created = api.cards('person').find((c) => c.name === 'P-2')!;
    const err = (attributeCode: string | null, attributeType: string | null, message: string) => ({
      attributeCode,
      attributeType,
      message,
      error: 'Bad Request',
    });
    expect(res.body).toEqual({
      meta: {
        timestamp: ISO,
        url: '/rest-api/itsm/v1/dc/person/data',
        importResult: { handledDataCards: 8, savedDataCards: 2, notSavedDataCards: 6 },
      },
      data: [
        {
          dataCard: { dataCardId: created.dataCardId, name: 'P-2', url: `/dc/person/data/${created.dataCardId}` },
          errors: [],
        },
        {
          dataCard: { dataCardId: existing.dataCardId, name: 'P-1', url: `/dc/person/data/${existing.dataCardId}` },
          errors: [],
        },
        {
          dataCard: null,
          errors: [
            err(
              'efecte_id',
              'string',
              `Value: P-2 of unique attribute: Efecte ID is already used by data card: ${created.dataCardId}`,
            ),
          ],
        },
        {
          dataCard: null,
          errors: [err('nope', null, "Couldn't find attribute with code: nope from template: Person")],
        },
        {
          dataCard: null,
          errors: [
            err(
              'manager',
              'reference',
              "Couldn't find data card with id: 999 from templates: [person] for attribute: Manager",
            ),
          ],
        },
        { dataCard: null, errors: [err(null, null, "Couldn't find data card with id: 998 from template: person")] },
        { dataCard: null, errors: [err(null, null, 'folderCode is required to create a data card')] },
        {
          dataCard: null,
          errors: [err('efecte_id', 'string', 'Attribute: Efecte ID is not multi-value, but 2 values were given')],
        },
      ],
    });
    // The modify replaced full_name, cleared tags and kept the rest.
    const after = api.card(existing.dataCardId)!;
    expect(after.data.full_name.values).toEqual([{ value: 'Anna' }]);
    expect(after.data.tags.values).toEqual([]);
    expect(after.data.age.values).toEqual([{ value: 41 }]);
    expect(api.cards('person').map((c) => c.name)).toEqual(['P-1', 'P-2']);
    expect(api.counts()).toMatchObject({ login: 1, bulkPut: 1 });
  });

  it('keeps a refused modify unchanged and names the card', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1', age: 1 });
    const res = await call('PUT', '/dc/person/data', {
      body: [
        {
          dataCardId: card.dataCardId,
          data: { age: { values: [{ value: 2 }] }, birthday: { values: [{ value: '03.02.1984' }] } },
        },
      ],
    });
    expect(res.body.data[0]).toEqual({
      dataCard: { dataCardId: card.dataCardId, name: 'P-1', url: `/dc/person/data/${card.dataCardId}` },
      errors: [
        {
          attributeCode: 'birthday',
          attributeType: 'date',
          message: "Couldn't parse date from value: 03.02.1984 for attribute: Birthday",
          error: 'Bad Request',
        },
      ],
    });
    expect(api.card(card.dataCardId)!.data.age.values).toEqual([{ value: 1 }]);
  });

  it('refuses a body that is not an array (400)', async () => {
    const res = await call('PUT', '/dc/person/data', { body: { folderCode: 'people', data: {} } });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('The body must be an array of data cards');
  });
});

describe('PATCH, DELETE and attribute calls', () => {
  it('patches a card and moves it between allowed folders', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1', age: 1 });
    const path = `/dc/person/data/${card.dataCardId}`;
    const res = await call('PATCH', path, {
      body: { dataCardId: card.dataCardId, folderCode: 'archive', data: { age: { values: [{ value: 2 }] } } },
    });
    expect(res.status).toBe(200);
    expect(res.body.dataCard).toEqual({ dataCardId: card.dataCardId, name: 'P-1', url: path });
    expect(api.card(card.dataCardId)).toMatchObject({
      folderCode: 'archive',
      data: { age: { values: [{ value: 2 }] } },
    });
    const mismatch = await call('PATCH', path, { body: { dataCardId: card.dataCardId + 1, data: {} } });
    expect(mismatch.status).toBe(400);
    expect((await call('PATCH', '/dc/person/data/999', { body: { dataCardId: 999, data: {} } })).status).toBe(404);
  });

  it('moves a card to the trash with DELETE, 409 the second time, 404 for an unknown card', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1' });
    const path = `/dc/person/data/${card.dataCardId}`;
    const first = await call('DELETE', path);
    expect(first).toMatchObject({
      status: 200,
      body: { code: 200, message: `Data card ${card.dataCardId} was moved to the trash`, timestamp: ISO },
    });
    const again = await call('DELETE', path);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      code: 409,
      message: `Data card ${card.dataCardId} is already in the trash`,
      error: 'Conflict',
      url: `/rest-api/itsm/v1${path}`,
      timestamp: ISO,
    });
    const unknown = await call('DELETE', '/dc/person/data/424242');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe("Couldn't find data card with id: 424242 from template: person");
    expect(api.cards('person')).toEqual([]);
    expect(api.cards('person', { includeDeleted: true })).toMatchObject([
      { dataCardId: card.dataCardId, deleted: true },
    ]);
    expect((await call('GET', path)).body.deleted).toBe(true);
    expect((await call('PATCH', path, { body: { dataCardId: card.dataCardId, data: {} } })).status).toBe(409);
    // The trash frees the unique value.
    expect(api.insert('person', 'people', { efecte_id: 'P-1' }).dataCardId).toBeGreaterThan(card.dataCardId);
  });

  it('reads, replaces, adds to and clears one attribute', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1', tags: ['a'] });
    const path = `/dc/person/data/${card.dataCardId}/tags`;
    expect((await call('GET', path)).body).toEqual({ name: 'Tags', type: 'string', values: [{ value: 'a' }] });
    const added = await call('POST', path, { body: { values: [{ value: 'b' }] } });
    expect(added.body).toEqual({
      code: 200,
      message: `Values added to attribute tags of data card ${card.dataCardId}`,
      timestamp: ISO,
    });
    expect(api.card(card.dataCardId)!.data.tags.values).toEqual([{ value: 'a' }, { value: 'b' }]);
    await call('PUT', path, { body: { values: [{ value: 'c' }] } });
    expect(api.card(card.dataCardId)!.data.tags.values).toEqual([{ value: 'c' }]);
    await call('DELETE', path);
    expect(api.card(card.dataCardId)!.data.tags.values).toEqual([]);
    const single = await call('POST', `/dc/person/data/${card.dataCardId}/efecte_id`, {
      body: { values: [{ value: 'x' }] },
    });
    expect(single.status).toBe(400);
    expect(single.body.message).toBe(
      'Data card was not saved: Attribute: Efecte ID is not multi-value, but 2 values were given',
    );
    expect((await call('GET', `/dc/person/data/${card.dataCardId}/nope`)).status).toBe(404);
  });
});

describe('seeding with insert()', () => {
  it('takes plain values (static values by value or code, Dates, reference ids) and refuses what the API refuses', () => {
    const group = api.insert('group', 'groups', { efecte_id: 'G-1' });
    const card = api.insert('person', 'people', {
      efecte_id: 'P-1',
      status: 'deleted',
      birthday: new Date('1984-02-03T00:00:00Z'),
      updated: new Date('2021-03-24T10:57:57.123Z'),
      groups: [group.dataCardId],
      tags: ['a', 'b'],
    });
    expect(card.data.status.values).toEqual([{ value: '05 - Deleted', code: 'deleted' }]);
    expect(card.data.birthday.values).toEqual([{ value: '1984-02-03' }]);
    expect(card.data.updated.values).toEqual([{ value: '2021-03-24T10:57:57Z' }]);
    expect(card.data.groups.values).toMatchObject([{ dataCardId: group.dataCardId, name: 'G-1' }]);
    expect(card.data.tags.values).toEqual([{ value: 'a' }, { value: 'b' }]);
    expect(() => api.insert('person', 'people', { efecte_id: 'P-1' })).toThrow(
      `insert into person refused: Value: P-1 of unique attribute: Efecte ID is already used by data card: ${card.dataCardId}`,
    );
    expect(() => api.insert('person', 'nowhere', { efecte_id: 'P-2' })).toThrow(
      "insert into person refused: Folder 'nowhere' is not allowed for template 'person'",
    );
  });
});

describe('files', () => {
  async function upload(token: string, path: string, bytes: Buffer, fileName?: string): Promise<Answer> {
    const form = new FormData();
    form.set('fileUpload', new Blob([bytes]), 'ignored.bin');
    if (fileName) form.set('fileName', fileName);
    const res = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    return { status: res.status, body: await res.json(), headers: res.headers as Headers };
  }

  it('uploads a file into an external-reference attribute and downloads it as octet-stream', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1' });
    const token = await login();
    const base = `/dc/person/data/${card.dataCardId}/photo/file`;
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    const res = await upload(token, base, bytes, 'me.png');
    expect(res).toMatchObject({
      status: 200,
      body: {
        code: 200,
        message: `File me.png was added to attribute photo of data card ${card.dataCardId}`,
        timestamp: ISO,
      },
    });
    const values = api.card(card.dataCardId)!.data.photo.values;
    expect(values).toEqual([{ name: 'me.png', location: 'file-1' }]);
    const download = await fetch(`${api.url}${base}/file-1`, { headers: { authorization: `Bearer ${token}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);
    expect((await fetch(`${api.url}${base}/file-9`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      404,
    );
    expect(api.requests.find((r) => r.kind === 'file')?.body).toMatch(
      /^\(\d+ bytes of multipart\/form-data; boundary=/,
    );
  });

  it('answers 413 over the size limit and 400 without fileName or for another attribute type', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1' });
    const token = await login();
    const base = `/dc/person/data/${card.dataCardId}`;
    const big = await upload(token, `${base}/photo/file`, Buffer.alloc(1025), 'big.bin');
    expect(big.status).toBe(413);
    expect(big.body.message).toBe('Uploaded file is too big');
    const unnamed = await upload(token, `${base}/photo/file`, Buffer.from('x'));
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.message).toBe("Required part 'fileName' is not present");
    const wrong = await upload(token, `${base}/full_name/file`, Buffer.from('x'), 'x.txt');
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toBe('Attribute: Full name does not take files');
    expect(api.card(card.dataCardId)!.data.photo.values).toEqual([]);
  });
});

describe('permissions and faults', () => {
  it('answers 403 to writes of a user without write permission on the template', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1' });
    const token = await login(READER);
    const body = [{ folderCode: 'people', data: {} }];
    const res = await call('PUT', '/dc/person/data', { token, body });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      code: 403,
      message: 'User is forbidden to update the resource',
      error: 'Forbidden',
      url: '/rest-api/itsm/v1/dc/person/data',
      timestamp: ISO,
    });
    expect((await call('DELETE', `/dc/person/data/${card.dataCardId}`, { token })).status).toBe(403);
    expect((await call('GET', '/dc/person/data', { token, query: { limit: 1 } })).status).toBe(200);
    expect((await call('PUT', '/dc/group/data', { token, body: [{ folderCode: 'groups', data: {} }] })).status).toBe(
      200,
    );
  });

  it('shows an attribute hidden from the user as empty, to reads and filters alike, and refuses writing it', async () => {
    const card = api.insert('person', 'people', { efecte_id: 'P-1', age: 41 });
    const token = await login(LIMITED);
    const read = await call('GET', `/dc/person/data/${card.dataCardId}`, { token });
    expect(read.body.data.age).toEqual({ name: 'Age', type: 'number', values: [] });
    expect((await call('GET', '/dc/person', { token })).body.attributes.age).toBeDefined();
    const filtered = await call('GET', '/dc/person/data', { token, query: { limit: 5, filter: '$age$ = 41' } });
    expect(filtered.body.data).toEqual([]);
    expect(
      (await call('GET', '/dc/person/data', { token, query: { limit: 5, filter: '$age$ IS NULL' } })).body.data,
    ).toHaveLength(1);
    const write = await call('PUT', '/dc/person/data', {
      token,
      body: [{ dataCardId: card.dataCardId, data: { age: { values: [{ value: 1 }] } } }],
    });
    expect(write.body.data[0].errors).toEqual([
      {
        attributeCode: 'age',
        attributeType: 'number',
        message: 'User is not allowed to update attribute: Age',
        error: 'Forbidden',
      },
    ]);
    expect(api.card(card.dataCardId)!.data.age.values).toEqual([{ value: 41 }]);
  });

  it('injects 429 with Retry-After and the throttle body, then answers normally', async () => {
    const token = await login();
    api.fault({ method: 'GET', path: /\/dc\/person\/data$/, status: 429, retryAfter: 3, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await call('GET', '/dc/person/data', { token, query: { limit: 1 } });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
      expect(res.body).toEqual({
        message: 'Too many requests, retry in 3 seconds',
        url: '/rest-api/itsm/v1/dc/person/data',
        timestamp: ISO,
      });
    }
    expect((await call('GET', '/dc/person/data', { token, query: { limit: 1 } })).status).toBe(200);
    expect(api.counts().list).toBe(3);
  });

  it('can carry out a write and lose its answer (after) or drop the connection (reset)', async () => {
    const token = await login();
    api.fault({ method: 'PUT', status: 502, after: true });
    const body = [{ folderCode: 'people', data: { efecte_id: { values: [{ value: 'P-1' }] } } }];
    const lost = await call('PUT', '/dc/person/data', { token, body });
    expect(lost.status).toBe(502);
    expect(api.cards('person').map((c) => c.name)).toEqual(['P-1']);
    api.fault({ method: 'PUT', reset: true, after: true });
    const dropped = call('PUT', '/dc/person/data', {
      token,
      body: [{ folderCode: 'people', data: { efecte_id: { values: [{ value: 'P-2' }] } } }],
    });
    await expect(dropped).rejects.toThrow();
    expect(api.cards('person').map((c) => c.name)).toEqual(['P-1', 'P-2']);
    expect(api.requests.map((r) => r.status)).toEqual([200, 502, 0]);
  });
});

describe('a client that dies mid-request', () => {
  it('keeps the change of a call whose answer never reached the client', async () => {
    const token = await login();
    api.fault({ method: 'PUT', after: true, delayMs: 60_000 });
    const carried = api.waitForRequest({ kind: 'bulkPut' });
    const client = new AbortController();
    const pending = fetch(`${api.url}/dc/person/data`, {
      method: 'PUT',
      signal: client.signal,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ folderCode: 'people', data: { efecte_id: { values: [{ value: 'P-1' }] } } }]),
    });
    const request = await carried;
    expect(request).toMatchObject({ method: 'PUT', kind: 'bulkPut', status: 200 });
    client.abort();
    await expect(pending).rejects.toThrow();
    expect(api.cards('person').map((c) => c.name)).toEqual(['P-1']);
    // The client, restarted, finds the card by its unique value instead of creating a second one.
    const found = await call('GET', '/dc/person/data', {
      token,
      query: { limit: 200, filter: "$efecte_id$ IN ('P-1')" },
    });
    expect(found.body.data).toHaveLength(1);
  });

  it('times out waiting for a request that does not come', async () => {
    await expect(api.waitForRequest({ kind: 'delete' }, 50)).rejects.toThrow(
      'no request matching {"kind":"delete"} within 50 ms',
    );
  });
});

describe('https and the standalone entry', () => {
  it('serves https with the test PKI', async () => {
    const pki = await createTestPki();
    const secure = await startM42Api({ templates: TEMPLATES, tls: { cert: pki.serverCert, key: pki.serverKey } });
    const dispatcher = new Agent({ connect: { ca: pki.caCert } });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/rest-api\/itsm\/v1$/);
      const res = await fetch(`${secure.url}/echo?message=tls`, { dispatcher });
      expect(((await res.json()) as { message: string }).message).toBe('tls');
    } finally {
      await dispatcher.close();
      await secure.stop();
      await pki.cleanup();
    }
  });

  it('main.ts prints its base URL as a JSON line, serves the seed and stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'provisio-m42-'));
    const seed = join(dir, 'seed.json');
    await writeFile(
      seed,
      JSON.stringify({
        templates: TEMPLATES,
        users: [{ login: 'u', password: 'p' }],
        cards: [{ template: 'group', folder: 'groups', data: { efecte_id: 'G-1' } }],
      }),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/peers/m42-api/main.ts', '--port', '0', '--seed', seed],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`main.ts exited with ${code}`)));
      });
      const { url } = JSON.parse(line) as { url: string };
      const loginRes = await fetch(`${url}/users/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'login=u&password=p',
      });
      const token = ((await loginRes.json()) as { token: string }).token;
      const list = await fetch(`${url}/dc/group/data?limit=5`, { headers: { authorization: token } });
      expect(((await list.json()) as Json).data).toEqual([{ dataCardId: 1, name: 'G-1', url: '/dc/group/data/1' }]);
      const counts = await fetch(new URL('/__sim/counts', url));
      expect(await counts.json()).toMatchObject({ login: 1, list: 1 });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
