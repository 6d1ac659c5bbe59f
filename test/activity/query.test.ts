/** The API's query parameters: defaults, limits, and a clear 400 for each bad value. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { orderClause, parseQuery, whereClause } from '../../src/activity/query.ts';
import { ProxyError } from '../../src/errors.ts';

const q = (text: string): ReturnType<typeof parseQuery> => parseQuery(new URLSearchParams(text));

it('defaults: newest first, 25 per page, page 1, every model', () => {
  assert.deepEqual(q(''), { models: [], sort: 'id', order: 'desc', limit: 25, page: 1 });
  assert.deepEqual(q('model=a&model=%20b%20&model=&limit=999&page=3&sort=gen_speed&order=ASC'), { models: ['a', 'b'], sort: 'gen_speed', order: 'asc', limit: 999, page: 3 });
  assert.deepEqual(q('start=2026-01-02T03:04:05.5%2B01:00&end=2026-01-02T03:04:05Z&min_id=0&max_id=7'), {
    models: [], start: Date.UTC(2026, 0, 2, 2, 4, 5, 500), end: Date.UTC(2026, 0, 2, 3, 4, 5), maxId: 7, sort: 'id', order: 'desc', limit: 25, page: 1,
  });
});

it('every bad value is a BAD_REQUEST naming the parameter and the value', () => {
  const cases: Array<[string, RegExp]> = [
    ['limit=0', /^limit must be an integer from 1 to 999, got "0"$/],
    ['limit=1000', /limit/],
    ['limit=1.5', /limit/],
    ['page=0', /^page must be an integer from 1/],
    ['page=-1', /page/],
    ['min_id=x', /^min_id/],
    ['max_id=1e3', /^max_id/],
    ['start=2026-01-02', /^start must be an RFC 3339 time/],
    ['end=2026-13-45T00:00:00Z', /^end must be an RFC 3339 time/],
    ['start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z', /^start must not be after end$/],
    ['sort=id;drop', /^sort must be one of id, time, model, .*got "id;drop"$/],
    ['sort=__proto__', /^sort must be one of/],
    ['order=sideways', /^order must be asc or desc, got "sideways"$/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => q(text), (err: unknown) => err instanceof ProxyError && err.code === 'BAD_REQUEST' && message.test(err.message), text);
  }
});

it('SQL gets whitelisted columns and bound values only', () => {
  assert.deepEqual(whereClause({ models: [] }), { sql: '', params: [] });
  assert.deepEqual(whereClause({ models: ["a'; drop table activity; --", 'b'], start: 5, maxId: 9 }), {
    sql: 'WHERE model IN (?, ?) AND ts >= ? AND id <= ?', params: ["a'; drop table activity; --", 'b', 5, 9],
  });
  assert.equal(orderClause('id', 'asc'), 'ORDER BY id ASC');
  assert.equal(orderClause('gen_speed', 'desc'), 'ORDER BY tokens_per_second DESC, id DESC');
});
