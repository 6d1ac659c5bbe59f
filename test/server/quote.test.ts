import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { describeJsonValue, quote } from '../../src/server/quote.ts';

/** Characters that must never appear raw in a quoted string. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

describe('quote', () => {
  it('escapes C0, DEL, C1, line separators and bidi controls, and stays valid JSON for the same string', () => {
    const s = 'm\u0000\u0007\u001b[2J\r\nFAKE\u007f\u009b31m\u2028\u202e\ufeff"\\';
    const q = quote(s);
    assert.doesNotMatch(q, UNSAFE);
    assert.equal(JSON.parse(q), s);
    assert.match(q, /\\u001b\[2J\\r\\nFAKE\\u007f\\u009b31m\\u2028\\u202e\\ufeff\\"\\\\/);
  });

  it('cuts long strings with an ellipsis, never inside a surrogate pair', () => {
    assert.equal(JSON.parse(quote('x'.repeat(500))), `${'x'.repeat(200)}…`);
    const emoji = `${'a'.repeat(199)}🦙🦙`;
    assert.equal(JSON.parse(quote(emoji)), `${'a'.repeat(199)}…`);
  });

  it('property: never emits an unsafe character; round-trips strings up to the limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const q = quote(s);
        assert.doesNotMatch(q, UNSAFE);
        const back = JSON.parse(q) as string;
        if (s.length <= 200) assert.equal(back, s);
        else assert.ok(back.endsWith('…') && s.startsWith(back.slice(0, -1)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('describeJsonValue', () => {
  it('names the type without serializing containers (a 200,000-deep array must not overflow the stack)', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    assert.equal(describeJsonValue(deep), 'an array (1 items)');
    assert.equal(describeJsonValue({ a: 1 }), 'an object');
    assert.equal(describeJsonValue(42), 'the number 42');
    assert.equal(describeJsonValue(false), 'the boolean false');
    assert.equal(describeJsonValue(null), 'null');
  });
});
