import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractModel, rewriteModel } from '../../src/server/model-extract.ts';
import type { Extracted } from '../../src/server/model-extract.ts';

// rewriteModel on JSON bodies (useModelName): the top-level model value is
// spliced in place, every other byte forwarded as received. The scanner
// itself is covered by json-model.test.ts.

const JSON_CT = 'application/json';

/** Extract, then rewrite with `name`, as app.ts does; returns the forwarded text. */
async function rewriteJson(text: string, name: string, query = ''): Promise<string> {
  const body = Buffer.from(text, 'utf8');
  const ex = await extractModel(JSON_CT, body, new URLSearchParams(query));
  return rewriteModel(ex, JSON_CT, body, name).toString('utf8');
}

describe('rewriteModel: JSON bodies are edited in place', () => {
  it('preserves integers beyond 2^53, -0 and number spelling byte-for-byte', async () => {
    const text = '{"seed":12345678901234567890,"model":"a","t":-0,"p":1.0E+2,"n":[9007199254740993,1e400]}';
    const out = await rewriteJson(text, 'b');
    assert.equal(out, text.replace('"model":"a"', '"model":"b"'));
    assert.ok(out.includes('12345678901234567890') && out.includes('9007199254740993'));
  });

  it('preserves whitespace and key order', async () => {
    const text = '\r\n {\n\t"stream" :true ,\n\t"model"\t:\r\n  "a"  ,\n\t"messages": [ ]\n}\n ';
    const out = await rewriteJson(text, 'replacement');
    assert.equal(out, text.replace('"a"', '"replacement"'));
  });

  it('leaves nested model keys untouched', async () => {
    const text = '{"metadata":{"model":"x","deep":{"model":"y"}},"messages":[{"model":"z"},["model"]],"model":"a","tools":{"model":{"model":1}}}';
    const out = await rewriteJson(text, 'b');
    assert.equal(out, text.replace('"model":"a"', '"model":"b"'));
  });

  it('leaves strings containing an escaped "model" untouched', async () => {
    const text = String.raw`{"prompt":"say \"model\":\"evil\", then {\"model\":1}","a":"\\","b":"\\\"model\":","model":"a","c":"\u0022model\u0022"}`;
    const out = await rewriteJson(text, 'b');
    assert.equal(out, text.replace('"model":"a"', '"model":"b"'));
  });

  it('matches a top-level key spelled with escapes, as JSON.parse does', async () => {
    for (const key of [String.raw`mod\u0065l`, String.raw`\u006D\u006f\u0064\u0065\u006C`, String.raw`model`]) {
      const text = `{"x":1,"${key}":"a","y":2}`;
      assert.equal(await rewriteJson(text, 'b'), `{"x":1,"${key}":"b","y":2}`, key);
    }
    // keys that only look alike are not "model"
    const near = String.raw`{"Model":"n","model\u0000":"n","model ":"n","\\model":"n","mode":"n","model":"a"}`;
    assert.equal(await rewriteJson(near, 'b'), near.replace('"model":"a"', '"model":"b"'));
  });

  it('replaces every top-level duplicate "model", whatever its value', async () => {
    const text = '{"model":{"a":"}\\"]"},"x":[1,{"model":2}],"model" : null,"model":"last"}';
    const out = await rewriteJson(text, 'b');
    assert.equal(out, '{"model":"b","x":[1,{"model":2}],"model" : "b","model":"b"}');
    assert.equal((JSON.parse(out) as { model: string }).model, 'b');
  });

  it('writes a unicode or escape-worthy name as a valid JSON string', async () => {
    const name = 'qwen/模型-🚀 "q4" \\ \n\u2028 é';
    const out = await rewriteJson('{"model":"a","x":"ü"}', name);
    assert.deepEqual(JSON.parse(out), { model: name, x: 'ü' });
    assert.equal(out, `{"model":${JSON.stringify(name)},"x":"ü"}`);
    // a name with a lone surrogate is escaped, so the body stays valid UTF-8 JSON
    const lone = await rewriteJson('{"model":"a"}', 'x\ud800');
    assert.equal(lone, '{"model":"x\\ud800"}');
  });

  it('keeps non-ASCII bytes outside the value as received', async () => {
    // 模, an astral emoji, a precomposed and a combining é: bytes, not code points, are kept.
    const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe6, 0xa8, 0xa1, 0xf0, 0x9f, 0xa6, 0x99, 0xc3, 0xa9, 0x65, 0xcc, 0x81]), Buffer.from('","model":"a"}')]);
    const ex = await extractModel(JSON_CT, body, new URLSearchParams());
    const out = rewriteModel(ex, JSON_CT, body, 'b');
    assert.deepEqual(out, Buffer.concat([body.subarray(0, body.length - 4), Buffer.from('"b"}')]));
  });

  it('never sees invalid UTF-8: extractModel refuses it first (the scanner would keep it, json-model.ts)', async () => {
    const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe6, 0xa8, 0xa1, 0xff, 0xc3]), Buffer.from('","model":"a"}')]);
    await assert.rejects(extractModel(JSON_CT, body, new URLSearchParams()), /not valid UTF-8.*byte offset 9 \(0xff 0xc3 0x22 0x2c\)/);
  });

  it('returns the body itself when the model came from ?model=', async () => {
    for (const text of ['{"input":"hi","metadata":{"model":"nested"}}', '', '{"model":null}'.replace('model', 'modell')]) {
      const body = Buffer.from(text);
      const ex = await extractModel(JSON_CT, body, new URLSearchParams('model=q'));
      assert.equal(rewriteModel(ex, JSON_CT, body, 'b'), body, JSON.stringify(text));
    }
  });

  it('replaces a null top-level model even though the name came from ?model=', async () => {
    assert.equal(await rewriteJson('{ "model": null }', 'b', 'model=q'), '{ "model": "b" }');
  });

  it('generated bodies: output equals the body rendered with every top-level model value swapped', () => {
    const random = lcg(42);
    let withModel = 0;
    for (let n = 0; n < 500; n++) {
      const top = genTop(random);
      const name = `m${n}-“${random() < 0.5 ? '"' : '/'}”`;
      const text = top.render(undefined);
      // Built by hand rather than by extractModel, which would reject the
      // generated bodies whose last model is not a string.
      const ex: Extracted = { model: 'q', kind: 'json', json: JSON.parse(text) as Record<string, unknown> };
      const out = rewriteModel(ex, JSON_CT, Buffer.from(text), name).toString('utf8');
      assert.equal(out, top.render(JSON.stringify(name)), text);
      if (top.hasModel) {
        withModel++;
        assert.equal((JSON.parse(out) as { model: unknown }).model, name);
      }
    }
    assert.ok(withModel > 100, `only ${withModel} generated bodies had a top-level model`);
  });
});

// ---- generated JSON for the agreement test ----
// The generator keeps the top-level members as parts, so the expected output
// is rendered independently of the scanner: same text, model values swapped.

/** A deterministic PRNG in [0, 1), so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function pick<T>(random: () => number, xs: readonly T[]): T {
  return xs[Math.floor(random() * xs.length)]!;
}

const WS = ['', '', ' ', '\n  ', '\t', '\r\n'];
const KEYS = ['model', 'model', String.raw`mod\u0065l`, 'Model', 'models', 'x', String.raw`a\"model\"`, String.raw`\\`, 'seed', '模型'];
const STRINGS = ['"a"', '"model"', String.raw`"\"model\":\"x\""`, String.raw`"\\"`, String.raw`"}{]["`, '"ü🚀"', String.raw`"\u0000\n"`];
const SCALARS = ['12345678901234567890', '-0', '1.50', '1E+2', 'true', 'false', 'null', ...STRINGS];

function genValue(random: () => number, depth: number): string {
  const r = random();
  const w = (): string => pick(random, WS);
  if (depth < 3 && r < 0.2) {
    const members = Array.from({ length: Math.floor(random() * 3) }, () => `${w()}"${pick(random, KEYS)}"${w()}:${w()}${genValue(random, depth + 1)}${w()}`);
    return `{${members.join(',')}${w()}}`;
  }
  if (depth < 3 && r < 0.35) {
    const items = Array.from({ length: Math.floor(random() * 3) }, () => w() + genValue(random, depth + 1) + w());
    return `[${items.join(',')}${w()}]`;
  }
  return pick(random, SCALARS);
}

interface GeneratedTop {
  readonly hasModel: boolean;
  /** The body text; with `modelJson`, every top-level model value replaced by it. */
  render(modelJson: string | undefined): string;
}

function genTop(random: () => number): GeneratedTop {
  const w = (): string => pick(random, WS);
  const members = Array.from({ length: Math.floor(random() * 5) }, () => {
    const key = pick(random, KEYS);
    return { before: `${w()}"${key}"${w()}:${w()}`, value: genValue(random, 0), after: w(), isModel: JSON.parse(`"${key}"`) === 'model' };
  });
  const [lead, inner, trail] = [w(), w(), w()];
  return {
    hasModel: members.some((m) => m.isModel),
    render: (modelJson) => {
      const body = members.map((m) => m.before + (m.isModel && modelJson !== undefined ? modelJson : m.value) + m.after);
      return `${lead}{${body.join(',')}${inner}}${trail}`;
    },
  };
}
