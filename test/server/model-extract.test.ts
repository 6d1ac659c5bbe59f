import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import busboy from 'busboy';
import { ProxyError } from '../../src/errors.ts';
import { extractModel, rewriteModel } from '../../src/server/model-extract.ts';
import type { Extracted } from '../../src/server/model-extract.ts';

const JSON_CT = 'application/json';
const FORM_CT = 'application/x-www-form-urlencoded';

function extract(ct: string | undefined, body: string | Buffer, query = ''): Promise<Extracted> {
  return extractModel(ct, Buffer.from(body), new URLSearchParams(query));
}

async function rejectsWith(p: Promise<unknown>, code: ProxyError['code'], message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ProxyError, `expected a ProxyError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

// A multipart body built by hand: a binary file part holding every byte value
// (and CR/LF and a fake boundary prefix), the model field, another text field.
const BOUNDARY = '----modelswap-7MA4YWxkTrZu0gW';
const MP_CT = `multipart/form-data; boundary=${BOUNDARY}`;
const FILE_BYTES = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from('\r\n--not-the-boundary\r\nname="model"\r\n\xff\xfe', 'latin1'),
]);

function filePart(): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="clip.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
    FILE_BYTES,
    Buffer.from('\r\n'),
  ]);
}

function multipart(model: string): Buffer {
  return Buffer.concat([
    filePart(),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${model}\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="language"\r\n\r\nen\r\n`),
    Buffer.from(`--${BOUNDARY}--\r\n`),
  ]);
}

/** Every field and file of a multipart body, as busboy sees them. */
function parseMultipart(body: Buffer): Promise<{ fields: Map<string, string>; files: Map<string, Buffer> }> {
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string>();
    const files = new Map<string, Buffer>();
    const bb = busboy({ headers: { 'content-type': MP_CT } });
    bb.on('field', (name, value) => fields.set(name, value));
    bb.on('file', (name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => files.set(name, Buffer.concat(chunks)));
    });
    bb.on('close', () => resolve({ fields, files }));
    bb.on('error', reject);
    bb.end(body);
  });
}

describe('extractModel', () => {
  it('reads the top-level model of a JSON body', async () => {
    const ex = await extract(JSON_CT, '{"messages":[],"model":"qwen3"}');
    assert.equal(ex.model, 'qwen3');
    assert.equal(ex.kind, 'json');
    assert.deepEqual(ex.json, { messages: [], model: 'qwen3' });
  });

  it('treats a json-ish content type with parameters, and a body without a content type, as JSON', async () => {
    assert.equal((await extract('application/json; charset=utf-8', '{"model":"a"}')).model, 'a');
    assert.equal((await extract('application/vnd.api+json', '{"model":"b"}')).model, 'b');
    assert.equal((await extract(undefined, '{"model":"c"}')).kind, 'json');
  });

  it('ignores nested model keys and reads the one JSON.parse keeps', async () => {
    assert.equal((await extract(JSON_CT, '{"metadata":{"model":"inner"},"model":"outer"}')).model, 'outer');
    assert.equal((await extract(JSON_CT, '{"model":"first","model":"last"}')).model, 'last');
    assert.equal((await extract(JSON_CT, '{"mod\\u0065l":"escaped"}')).model, 'escaped');
  });

  it('reads the model field of a multipart body next to a binary file', async () => {
    const ex = await extract(MP_CT, multipart('whisper-1'));
    assert.equal(ex.model, 'whisper-1');
    assert.equal(ex.kind, 'multipart');
    assert.equal(ex.json, undefined);
  });

  it('reads the model field of an urlencoded body', async () => {
    const ex = await extract(FORM_CT, 'prompt=a+b&model=tts%2D1&x=%F0%9F%9A%80');
    assert.equal(ex.model, 'tts-1');
    assert.equal(ex.kind, 'form');
  });

  it('falls back to ?model= when the body names none, and prefers the body when it does', async () => {
    assert.equal((await extract(JSON_CT, '{"input":"hi"}', 'model=from-query')).model, 'from-query');
    assert.equal((await extract(JSON_CT, '', 'model=empty-body')).model, 'empty-body');
    assert.equal((await extract(FORM_CT, 'input=hi', 'model=q')).model, 'q');
    assert.equal((await extract(MP_CT, multipart('b'), 'model=q')).model, 'b');
    assert.equal((await extract('text/plain', 'hello', 'model=plain')).kind, 'other');
    assert.equal((await extract(JSON_CT, '{"model":"body"}', 'model=query')).model, 'body');
    // a null model counts as absent (the ?? fallback)
    assert.equal((await extract(JSON_CT, '{"model":null}', 'model=q')).model, 'q');
  });

  it('rejects a body that is not valid JSON with BAD_REQUEST', async () => {
    await rejectsWith(extract(JSON_CT, '{"model":"a",}'), 'BAD_REQUEST', /not valid JSON/);
    await rejectsWith(extract(undefined, 'model=a'), 'BAD_REQUEST', /not valid JSON/);
  });

  it('rejects JSON that is not an object with BAD_REQUEST', async () => {
    for (const text of ['[{"model":"a"}]', 'null', '42', '"model"', 'true']) {
      await rejectsWith(extract(JSON_CT, text), 'BAD_REQUEST', /must be a JSON object/);
    }
  });

  it('rejects a model that is not a string with BAD_REQUEST', async () => {
    for (const text of ['{"model":42}', '{"model":{"name":"a"}}', '{"model":["a"]}', '{"model":false}']) {
      await rejectsWith(extract(JSON_CT, text), 'BAD_REQUEST', /"model" must be a string/);
    }
  });

  it('rejects a request without a model with NO_MODEL', async () => {
    await rejectsWith(extract(JSON_CT, '{"messages":[]}'), 'NO_MODEL');
    await rejectsWith(extract(JSON_CT, '{"model":""}'), 'NO_MODEL');
    await rejectsWith(extract(JSON_CT, '{"metadata":{"model":"nested only"}}'), 'NO_MODEL');
    await rejectsWith(extract(JSON_CT, ''), 'NO_MODEL');
    await rejectsWith(extract(FORM_CT, 'input=hi'), 'NO_MODEL');
    await rejectsWith(extract(MP_CT, Buffer.from(`--${BOUNDARY}--\r\n`)), 'NO_MODEL');
    await rejectsWith(extract(undefined, ''), 'NO_MODEL');
  });

  it('rejects a multipart content type without a boundary with BAD_REQUEST', async () => {
    await rejectsWith(extract('multipart/form-data', multipart('a')), 'BAD_REQUEST', /bad multipart/);
  });

  it('rejects a multipart body cut inside a file part with BAD_REQUEST, and nothing else throws (it once crashed the proxy)', async () => {
    const uncaught: Error[] = [];
    const onUncaught = (err: Error): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const cut = multipart('m1').subarray(0, filePart().length - 50); // inside the file's bytes
      await rejectsWith(extract(MP_CT, Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nm1\r\n`), cut])), 'BAD_REQUEST', /Unexpected end of form/);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual(uncaught.map((e) => e.message), []);
  });

  it('reads a JSON object whatever the content type says (curl -d sends urlencoded; llama-swap ignores the type)', async () => {
    for (const ct of [FORM_CT, 'text/plain', 'application/octet-stream', undefined, 'TEXT/PLAIN; charset=utf-8']) {
      const ex = await extract(ct, ' \r\n\t{"model":"a","messages":[]}');
      assert.deepEqual([ex.model, ex.kind], ['a', 'json'], String(ct));
    }
    assert.equal((await extract(MP_CT, multipart('b'))).kind, 'multipart', 'multipart is never sniffed');
    await rejectsWith(extract(FORM_CT, '{"model":'), 'BAD_REQUEST', /not valid JSON/);
  });

  it('names the wrong type of model without serializing it (a deep array once made a 500)', async () => {
    const deep = `{"model":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    await rejectsWith(extract(JSON_CT, deep), 'BAD_REQUEST', /"model" must be a string, got an array \(1 items\)/);
    await rejectsWith(extract(JSON_CT, '{"model":1e400}'), 'BAD_REQUEST', /got the number Infinity/);
  });

  it('rejects a JSON body that is not UTF-8 with the offset of the first bad byte; multipart files stay binary', async () => {
    const bad = (prefix: string, bytes: number[], suffix: string): Buffer => Buffer.concat([Buffer.from(prefix), Buffer.from(bytes), Buffer.from(suffix)]);
    await rejectsWith(extract(JSON_CT, bad('{"model":"m', [0xff], '"}')), 'BAD_REQUEST', /not valid UTF-8.*byte offset 11 \(0xff 0x22 0x7d\)/);
    await rejectsWith(extract(JSON_CT, bad('{"model":"m","x":"', [0xed, 0xa0, 0x80], '"}')), 'BAD_REQUEST', /byte offset 18 \(0xed 0xa0 0x80 0x22\)/);
    await rejectsWith(extract('text/plain', bad('{"model":"m","x":"', [0xc0, 0xaf], '"}')), 'BAD_REQUEST', /byte offset 18/);
    assert.equal((await extract(MP_CT, multipart('whisper-1'))).model, 'whisper-1', 'the file part holds every byte value');
  });
});

describe('rewriteModel: forms', () => {
  it('multipart: replaces only the model value; the file part and other fields stay byte-identical', async () => {
    const body = multipart('whisper-1');
    const ex = await extractModel(MP_CT, body, new URLSearchParams());
    const out = rewriteModel(ex, MP_CT, body, 'large-v3-模型');
    assert.deepEqual(out, multipart('large-v3-模型'));
    assert.deepEqual(out.subarray(0, filePart().length), filePart());
    const { fields, files } = await parseMultipart(out);
    assert.deepEqual(files.get('file'), FILE_BYTES);
    assert.deepEqual(fields, new Map([['model', 'large-v3-模型'], ['language', 'en']]));
  });

  it('multipart: a body without a model field is returned as is', async () => {
    const body = Buffer.concat([filePart(), Buffer.from(`--${BOUNDARY}--\r\n`)]);
    const ex = await extractModel(MP_CT, body, new URLSearchParams('model=q'));
    assert.equal(rewriteModel(ex, MP_CT, body, 'b'), body);
  });

  it('urlencoded: replaces the model value and keeps the other fields', async () => {
    const body = Buffer.from('input=hello+world&model=tts-1&voice=%C3%A9');
    const ex = await extractModel(FORM_CT, body, new URLSearchParams());
    const out = new URLSearchParams(rewriteModel(ex, FORM_CT, body, 'kokoro/v1 ü').toString('utf8'));
    assert.deepEqual([...out], [['input', 'hello world'], ['model', 'kokoro/v1 ü'], ['voice', 'é']]);
  });

  it('urlencoded: a body without a model field is returned as is', async () => {
    const body = Buffer.from('input=hi%20there');
    const ex = await extractModel(FORM_CT, body, new URLSearchParams('model=q'));
    assert.equal(rewriteModel(ex, FORM_CT, body, 'b'), body);
  });
});
