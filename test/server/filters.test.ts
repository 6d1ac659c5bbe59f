import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStripParams } from '../../src/config/model-options.ts';
import type { ModelConfig } from '../../src/config/types.ts';
import { deepMerge, filterEdits, forwardedBody } from '../../src/server/filters.ts';
import { editMembers, REMOVE } from '../../src/server/json-model.ts';
import { extractModel } from '../../src/server/model-extract.ts';
import { modelConfig } from '../process/helpers.ts';

type Filters = ModelConfig['filters'];
const NONE: Filters = { stripParams: [], setParams: undefined, setParamsByID: new Map() };

async function forward(body: string, filters: Partial<Filters>, useModelName?: string, ct = 'application/json'): Promise<string> {
  const buf = Buffer.from(body);
  const ex = await extractModel(ct, buf, new URLSearchParams());
  return forwardedBody(ex, ct, buf, modelConfig(1, { filters: { ...NONE, ...filters }, useModelName })).toString();
}

describe('filter body transform', () => {
  it('parses stripParams: trimmed, sorted, no repeats or empties, model never stripped', () => {
    assert.deepEqual(parseStripParams(' top_p, temperature ,,model, top_p '), ['temperature', 'top_p']);
    assert.deepEqual(parseStripParams(''), []);
  });

  it('deep-merges objects key by key and replaces everything else', () => {
    assert.deepEqual(deepMerge({ a: 1, o: { x: 1, y: { z: 1 } } }, { o: { y: { w: 2 } } }), { a: 1, o: { x: 1, y: { z: 1, w: 2 } } });
    assert.deepEqual(deepMerge([1, 2], [3]), [3]);
    assert.equal(deepMerge({ a: 1 }, 5), 5);
    assert.deepEqual(deepMerge(undefined, { a: 1 }), { a: 1 });
    const merged = deepMerge({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.ok(Object.hasOwn(merged, '__proto__'));
  });

  it('applies strip, then setParams, then the requested id\'s setParamsByID', () => {
    const filters: Filters = {
      stripParams: ['temperature', 'top_k'],
      setParams: { top_k: 40, kw: { a: 1 } },
      setParamsByID: new Map([['m:hi', { top_k: 80, kw: { b: 2 } }]]),
    };
    const edits = filterEdits({ model: 'm:hi', temperature: 1, top_k: 5, kw: { c: 3 } }, 'm:hi', filters);
    assert.deepEqual(edits, new Map<string, unknown>([['temperature', REMOVE], ['top_k', 80], ['kw', { c: 3, a: 1, b: 2 }]]));
    assert.equal(filterEdits({ model: 'm' }, 'm', NONE), undefined);
    assert.equal(filterEdits({ model: 'm' }, 'm', { ...NONE, stripParams: ['absent'] }), undefined);
  });

  it('keeps the bytes of members it does not touch (big integers, spelling) and appends new ones', async () => {
    const text = await forward('{"model":"m", "seed": 12345678901234567890, "temperature":0.7, "x":1.0e2}', { stripParams: ['temperature'], setParams: { top_k: 1 } });
    assert.equal(text, '{"model":"m","seed": 12345678901234567890,"x":1.0e2,"top_k":1}');
  });

  it('returns the body itself when nothing changes, and renames after filtering', async () => {
    const body = ' {"model" : "m",\n"a": 1 } ';
    assert.equal(await forward(body, {}), body);
    assert.equal(await forward('{"model":"m","t":1}', { stripParams: ['t'] }, 'real'), '{"model":"real"}');
  });

  it('edits duplicate keys everywhere and leaves non-JSON bodies to the rename alone', async () => {
    assert.equal(editMembers(Buffer.from('{"a":1,"a":2,"b":3}'), new Map([['a', REMOVE]])).toString(), '{"b":3}');
    const form = 'model=m&temperature=1';
    assert.equal(await forward(form, { stripParams: ['temperature'] }, undefined, 'application/x-www-form-urlencoded'), form);
  });
});
