import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replaceTopLevelValue, topLevelValueSpans } from '../../src/server/json-model.ts';

function valuesOf(text: string, key = 'model'): string[] {
  const b = Buffer.from(text);
  return topLevelValueSpans(b, key).map((s) => b.toString('utf8', s.start, s.end));
}

describe('topLevelValueSpans', () => {
  it('spans exactly the value of each top-level member, in order, for every value type', () => {
    const text = '{"model" : "a" ,"model":12345678901234567890,"model":-0.0e-0,"model":[1,"]"],"model":{"}":"{"},"model":true,"model":null}';
    assert.deepEqual(valuesOf(text), ['"a"', '12345678901234567890', '-0.0e-0', '[1,"]"]', '{"}":"{"}', 'true', 'null']);
  });

  it('finds nothing in an empty object, in a non-object or for nested keys only', () => {
    for (const text of ['{}', ' { \n } ', '[{"model":"a"}]', '"model"', '42', '', '{"x":{"model":"a"},"y":[{"model":"b"}]}']) {
      assert.deepEqual(valuesOf(text), [], JSON.stringify(text));
    }
  });

  it('offsets are in bytes, after multi-byte keys and values', () => {
    const b = Buffer.from('{"模型":"🚀","model":"é"}');
    const [span] = topLevelValueSpans(b, 'model');
    assert.deepEqual(span, { start: b.indexOf('"é"'), end: b.length - 1 });
  });

  it('matches keys by their decoded value, including a non-ASCII key', () => {
    assert.deepEqual(valuesOf(String.raw`{"\u6a21\u578b":1,"模型":2}`, '模型'), ['1', '2']);
    assert.deepEqual(valuesOf(String.raw`{"a\/b":1,"a/b":2,"a\\/b":3}`, 'a/b'), ['1', '2']);
  });

  it('terminates on truncated or invalid input instead of looping or throwing', () => {
    for (const text of ['{', '{"model"', '{"model":', '{"model":"a', '{"model":{"x":[', '{"mod\\', '{"mod\\u00":1}', '{"model" "a"}', '{,}', '{"a":1 "model":2}']) {
      assert.doesNotThrow(() => valuesOf(text), text);
    }
  });
});

describe('replaceTopLevelValue', () => {
  it('returns the same Buffer when there is no such member', () => {
    const body = Buffer.from('{"x":{"model":"a"}}');
    assert.equal(replaceTopLevelValue(body, 'model', '"b"'), body);
  });

  it('splices every occurrence and copies the rest', () => {
    const body = Buffer.from('{"model":1, "x":"model", "model" :\t[2]}');
    assert.equal(replaceTopLevelValue(body, 'model', '"b"').toString(), '{"model":"b", "x":"model", "model" :\t"b"}');
  });

  it('works on a Buffer view into a larger pooled allocation', () => {
    const big = Buffer.from('xxxx{"mod\\u0065l":"a"}yyyy');
    const view = big.subarray(4, big.length - 4);
    assert.equal(replaceTopLevelValue(view, 'model', '"b"').toString(), '{"mod\\u0065l":"b"}');
  });
});
