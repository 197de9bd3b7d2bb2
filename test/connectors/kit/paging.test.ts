/**
 * The paging strategies and total readers of connectors/kit/paging on their own: what each style asks for
 * first and next. The loop around them is tested through the REST connector against real servers
 * (test/connectors/rest/fixture-paging.test.ts, paging-anomalies.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { PagingPlan } from '../../../src/connectors/kit/paging/plan.js';
import { pagingStrategy } from '../../../src/connectors/kit/paging/strategies.js';
import type { PageResponse } from '../../../src/connectors/kit/paging/strategy.js';
import { bodyTotal, firstTotal, headerTotal } from '../../../src/connectors/kit/paging/totals.js';

const origin = new URL('https://api.example.com');
const query = new URL('https://api.example.com/v1/people?active=true');
const response = (body: unknown, headers: Record<string, string> = {}, url = query): PageResponse => ({
  url,
  status: 200,
  headers,
  body,
});
const strategy = (plan: PagingPlan) => pagingStrategy(plan, { origin });
const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i }));

describe('paging strategies', () => {
  it('none: one request, no next', () => {
    const s = strategy({ type: 'none' });
    expect(s.first(query)).toEqual({ url: query });
    expect(s.next({ index: 0, query, response: response([]), rows: rowsOf(3) })).toBeUndefined();
  });

  it('startOffset: start index and limit, ending on a short page', () => {
    const s = strategy({ type: 'startOffset', startParam: 'skip', limitParam: 'top', firstIndex: 1, pageSize: 2 });
    expect(s.first(query).url.href).toBe('https://api.example.com/v1/people?active=true&skip=1&top=2');
    expect(s.next({ index: 0, query, response: response([]), rows: rowsOf(2) })?.url.href).toBe(
      'https://api.example.com/v1/people?active=true&skip=3&top=2',
    );
    expect(s.next({ index: 1, query, response: response([]), rows: rowsOf(1) })).toBeUndefined();
  });

  it('pageIncrement: page number and size, ending on a short or empty page', () => {
    const s = strategy({ type: 'pageIncrement', pageParam: 'p', sizeParam: 'n', firstPage: 0, pageSize: 2 });
    expect(s.first(query).url.search).toBe('?active=true&p=0&n=2');
    expect(s.next({ index: 0, query, response: response([]), rows: rowsOf(2) })?.url.search).toBe(
      '?active=true&p=1&n=2',
    );
    expect(s.next({ index: 1, query, response: response([]), rows: [] })).toBeUndefined();
  });

  it('linkToken: the next link from the body or the Link header, named for loop detection', () => {
    const body = strategy({ type: 'linkToken', nextLinkPath: 'links.next', linkHeader: false });
    expect(body.first(query)).toEqual({ url: query, followed: { kind: 'link', value: query.href } });
    expect(
      body.next({ index: 0, query, response: response({ links: { next: '/v1/people?cursor=2' } }), rows: [] }),
    ).toEqual({
      url: new URL('https://api.example.com/v1/people?cursor=2'),
      followed: { kind: 'link', value: 'https://api.example.com/v1/people?cursor=2' },
    });
    const header = strategy({ type: 'linkToken', linkHeader: true });
    const link = '<https://api.example.com/v1/people?page=2>; rel="next", <https://api.example.com/x>; rel="last"';
    expect(header.next({ index: 0, query, response: response({}, { link }), rows: [] })?.url.search).toBe('?page=2');
    expect(header.next({ index: 0, query, response: response({}), rows: [] })).toBeUndefined();
  });

  it('linkToken: refuses a link with credentials (without repeating them) and one to another origin', () => {
    const s = strategy({ type: 'linkToken', linkHeader: true });
    const withUser = response({}, { link: '<https://bob:pa55word@api.example.com/v1/people?page=3>; rel="next"' });
    expect(() => s.next({ index: 1, query, response: withUser, rows: [] })).toThrow(
      'next link from page 2 (GET /v1/people) carries a user name or password; refusing to follow a link with credentials in it',
    );
    const elsewhere = response({}, { link: '<https://evil.example.net/steal>; rel="next"' });
    expect(() => s.next({ index: 0, query, response: elsewhere, rows: [] })).toThrow(
      "next link from GET /v1/people (https://evil.example.net) is outside the connector's origin https://api.example.com",
    );
  });

  it('linkAttributeToken: the token goes back as a parameter of the query', () => {
    const s = strategy({ type: 'linkAttributeToken', tokenPath: 'next', tokenParam: 'after' });
    expect(s.first(query)).toEqual({ url: query });
    expect(s.next({ index: 0, query, response: response({ next: 42 }), rows: [] })).toEqual({
      url: new URL('https://api.example.com/v1/people?active=true&after=42'),
      followed: { kind: 'token', value: '42' },
    });
    expect(s.next({ index: 0, query, response: response({ next: '' }), rows: [] })).toBeUndefined();
  });
});

describe('announced totals', () => {
  it('X-Total-Count: a count when numeric, nothing otherwise', () => {
    const read = headerTotal('X-Total-Count');
    expect(read(response([], { 'x-total-count': '500' }))).toEqual({ count: 500, from: 'X-Total-Count' });
    expect(read(response([], { 'x-total-count': 'many' }))).toBeUndefined();
    expect(read(response([]))).toBeUndefined();
  });

  it('a configured body path is required on the first page (Graph @odata.count, SCIM totalResults plug in the same way)', () => {
    const read = bodyTotal('meta.total', 'spec.rest.pagination.totalPath');
    expect(read(response({ meta: { total: 12 } }))).toEqual({ count: 12, from: 'meta.total' });
    expect(read(response({ meta: {} }))).toEqual({
      missing: 'the first page has no record count at "meta.total" (spec.rest.pagination.totalPath)',
    });
    expect(bodyTotal('@odata.count', 'odata')(response({ '@odata.count': 3 }))).toEqual({
      count: 3,
      from: '@odata.count',
    });
  });

  it('firstTotal takes the first reader that finds one', () => {
    const read = firstTotal(headerTotal('X-Total-Count'), bodyTotal('totalResults', 'scim'));
    expect(read(response({ totalResults: 7 }))).toEqual({ count: 7, from: 'totalResults' });
    expect(read(response({ totalResults: 7 }, { 'x-total-count': '8' }))).toEqual({ count: 8, from: 'X-Total-Count' });
  });
});
