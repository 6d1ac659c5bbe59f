/** CSV escaping and the export's pieces. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { csvField, CSV_HEADER, exportChunks } from '../../src/activity/export.ts';
import { toJson } from '../../src/activity/row.ts';
import { row } from './rows.ts';

it('escapes CSV fields (RFC 4180) and defuses spreadsheet formulas', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\rhere'), '"cr\rhere"');
  assert.equal(csvField('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
  assert.equal(csvField('+1'), "'+1");
  assert.equal(csvField('@sum'), "'@sum");
  assert.equal(csvField('-2'), "'-2");
  assert.equal(csvField(-1), '-1', 'numbers are written as they are');
  assert.equal(csvField(12.5), '12.5');
  assert.equal(csvField(true), 'true');
  assert.equal(csvField(null), '');
  assert.equal(csvField(''), '');
});

it('CSV: a header, then one line per row; a field with a comma stays one field', () => {
  const rows = [toJson(row(1, { error: 'upstream said "no", twice', evicted: ['a', 'b'], causedSwap: true }), false), toJson(row(2), true)];
  const text = [...exportChunks(rows, 'csv', 1)].join('');
  const lines = text.split('\r\n');
  assert.equal(lines[0], CSV_HEADER.join(','));
  assert.equal(lines.length, 4, 'header, two rows, and the empty string after the last CRLF');
  assert.match(lines[1]!, /^1,2023-11-14T22:13:21\.000Z,m,POST,\/v1\/chat\/completions,200,application\/json,false,1,5,10,true,a b,,3,1,-1,-1,21,,false,"upstream said ""no"", twice"$/);
  assert.match(lines[2]!, /,true,$/, 'has_capture, then no error');
});

it('JSON: one array, however many pieces it is written in', () => {
  const rows = [1, 2, 3].map((id) => toJson(row(id), false));
  const pieces = [...exportChunks(rows, 'json', 2)];
  assert.ok(pieces.length >= 2);
  assert.deepEqual((JSON.parse(pieces.join('')) as { id: number }[]).map((r) => r.id), [1, 2, 3]);
  assert.deepEqual(JSON.parse([...exportChunks([], 'json')].join('')), []);
  assert.equal([...exportChunks([], 'csv')].join(''), `${CSV_HEADER.join(',')}\r\n`);
});
