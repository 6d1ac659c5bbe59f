/**
 * Bad input against a real modelswap and real fake upstreams: every mistake
 * gets a clear 4xx in the OpenAI error shape (never a 500), and nothing it
 * sends reaches the logs raw. Raw sockets where fetch would fix the request
 * up first (paths, framing, Expect).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFromYaml, until, type Started } from '../helpers/modelswap.ts';
import { assertIdle, errorOf, raw, request, type RawResponse } from '../server/raw-http.ts';

const LIMIT = 4096;
const YAML = `
logLevel: debug
logToStdout: both
maxBodyBytes: ${LIMIT}
routing: { scheduler: { use: fifo } }
groups:
  all: { members: [m1, m2, org/model], swap: false, exclusive: false }
models:
  m1:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 2
    aliases: [first]
  m2:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 2
  org/model:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 2
`;

type Answer = { status: number; text: string; headers: Headers; error: { message: string; type: string; code: string } | undefined };

describe('bad input', () => {
  let app: Started;
  before(async () => {
    app = await startFromYaml(undefined, YAML);
  });
  after(() => app.close(2000));

  async function send(path: string, init: { method?: string; body?: string | Buffer; ct?: string | null } = {}): Promise<Answer> {
    const headers: Record<string, string> = init.ct === null ? {} : { 'content-type': init.ct ?? 'application/json' };
    const body = init.body === undefined ? undefined : new Uint8Array(Buffer.from(init.body));
    const r = await fetch(`${app.url}${path}`, { method: init.method ?? 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    let error: Answer['error'];
    try {
      error = (JSON.parse(text) as { error?: Answer['error'] }).error;
    } catch {
      error = undefined;
    }
    return { status: r.status, text, headers: r.headers, error };
  }

  const chat = (body: string | Buffer, ct?: string | null): Promise<Answer> => send('/v1/chat/completions', { body, ct });

  function isError(a: Answer | RawResponse, status: number, code: string, message?: RegExp, what = ''): void {
    const e = 'text' in a ? a.error : errorOf(a);
    assert.equal(a.status, status, `${what}: ${'text' in a ? a.text : a.raw.toString()}`);
    assert.equal(e?.code, code, what);
    if (message !== undefined) assert.match(e?.message ?? '', message, what);
    const servedBy = a.headers instanceof Headers ? a.headers.get('x-served-by') : a.headers['x-served-by'];
    assert.equal(servedBy ?? undefined, undefined, `${what}: modelswap's own answer, not an upstream's`);
  }

  test('malformed JSON: 400 bad_request, whatever the flaw', async () => {
    const cases = [
      '{"model":', '{"model":"m1",}', '{"model":"m1"} trailing', "{'model':'m1'}", '{"model":"m1","n":NaN}',
      '{"model":"m1" /* c */}', '\ufeff{"model":"m1"}', '{"model":"m1"', '{"model":"m1\\x"}', '{"model":"m1\u0001"}',
    ];
    for (const body of cases) isError(await chat(body), 400, 'bad_request', /not valid JSON/, body);
    for (const body of ['[{"model":"m1"}]', '"m1"', '42', 'null', 'true']) isError(await chat(body), 400, 'bad_request', /must be a JSON object/, body);
  });

  test('JSON under another content type is read as JSON (curl -d, text/plain); other bodies need ?model=', async () => {
    for (const ct of ['application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream', null]) {
      const r = await chat('{"model":"m1","messages":[{"role":"user","content":"x"}]}', ct);
      assert.equal(r.status, 200, `${ct}: ${r.text}`);
    }
    isError(await chat('hello', 'text/plain'), 400, 'model_required', /set "model"/);
    isError(await chat(Buffer.from([0, 1, 2, 0xff]), 'application/octet-stream'), 400, 'model_required');
    isError(await chat('hello', null), 400, 'bad_request', /not valid JSON/);
  });

  test('model of the wrong type: 400 naming the type; null or empty counts as missing', async () => {
    // A 100,000-deep array (once a 500: JSON.stringify overflowed) is over this proxy's 4 KiB limit: see fuzz.test.ts and the unit test.
    const cases: Array<[string, RegExp]> = [['42', /got the number 42/], ['true', /got the boolean true/], ['["m1"]', /got an array/], ['{"id":"m1"}', /got an object/]];
    for (const [value, re] of cases) isError(await chat(`{"model":${value}}`), 400, 'bad_request', re, value);
    for (const value of ['null', '""']) isError(await chat(`{"model":${value}}`), 400, 'model_required', undefined, value);
  });

  test('empty bodies: 400 model_required (JSON, none, chunked with no data)', async () => {
    isError(await chat(''), 400, 'model_required');
    isError(await chat('', null), 400, 'model_required');
    const r = await raw(app.url, ['POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']);
    isError(r, 400, 'model_required');
  });

  test('body size: exactly maxBodyBytes passes; one byte more is 413, declared or chunked, on every route that reads a body', async () => {
    const exact = (n: number): string => {
      const head = '{"model":"m1","messages":[{"role":"user","content":"x"}],"pad":"';
      return `${head}${'p'.repeat(n - head.length - 2)}"}`;
    };
    assert.equal((await chat(exact(LIMIT))).status, 200);
    isError(await chat(exact(LIMIT + 1)), 413, 'request_too_large', /4096 bytes/);
    isError(await send('/upstream/m1/v1/chat/completions', { body: exact(LIMIT + 1) }), 413, 'request_too_large');
    const chunked = await raw(app.url, [
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      `1000\r\n${'a'.repeat(0x1000)}\r\n`, `10\r\n${'a'.repeat(16)}\r\n`, { pauseMs: 20 }, `1000\r\n${'a'.repeat(0x1000)}\r\n`,
    ]);
    isError(chunked, 413, 'request_too_large');
    assert.equal(chunked.headers['connection'], 'close');
  });

  test('a declared oversized body is refused at once, before it is sent (plain and Expect: 100-continue)', async () => {
    const head = (extra: string): string => `POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000000\r\n${extra}\r\n`;
    for (const extra of ['', 'Expect: 100-continue\r\n']) {
      const r = await raw(app.url, [head(extra)], 3000);
      isError(r, 413, 'request_too_large', undefined, extra);
      assert.ok(r.ms < 2000, `answered after ${r.ms.toFixed(0)} ms without the body`);
      assert.doesNotMatch(r.raw.toString(), /100 Continue/);
    }
    const ok = await raw(app.url, [request('POST', '/v1/chat/completions', { headers: { 'content-type': 'application/json', expect: '100-continue' }, body: '{"model":"m1"}' })]);
    assert.match(ok.raw.toString(), /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  });

  test('JSON bodies must be UTF-8: 400 naming the byte offset; multipart files and /upstream bodies pass untouched', async () => {
    const body = (before: string, bytes: number[], rest: string): Buffer => Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(rest)]);
    isError(await chat(body('{"model":"m', [0xff], '1"}')), 400, 'bad_request', /not valid UTF-8.*byte offset 11 \(0xff/);
    isError(await chat(body('{"model":"m1","messages":"', [0xc3], '"}')), 400, 'bad_request', /byte offset 26 \(0xc3 0x22 0x7d\)/);
    const file = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const mp = Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n'), file,
      Buffer.from('\r\n--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm1\r\n--b--\r\n'),
    ]);
    const t = await send('/v1/audio/transcriptions', { body: mp, ct: 'multipart/form-data; boundary=b' });
    assert.equal(t.status, 200, t.text);
    assert.equal((JSON.parse(t.text) as { bytes: number }).bytes, 256);
    const passthrough = body('{"model":"m1","x":"', [0xff, 0xfe], '"}');
    const echo = await send('/upstream/m1/completion', { body: passthrough });
    assert.equal(echo.status, 200, echo.text);
    assert.equal((JSON.parse(echo.text) as { body_bytes: number }).body_bytes, passthrough.length);
  });

  test('unknown paths and wrong methods: 404 not_found, with a hint for inference paths; long paths are cut in the message', async () => {
    isError(await send('/v2/nothing', { method: 'GET' }), 404, 'not_found', /no route for GET "\/v2\/nothing"/);
    isError(await send('/v1/chat/completions', { method: 'GET' }), 404, 'not_found', /takes POST/);
    isError(await send('/v1/models', { body: '{}' }), 404, 'not_found');
    isError(await send('/running', { method: 'DELETE' }), 404, 'not_found');
    const long = await send(`/${'x'.repeat(8000)}`, { method: 'GET' });
    isError(long, 404, 'not_found');
    assert.ok(long.text.length < 600, `message of ${long.text.length} chars`);
  });

  test('path traversal in /upstream: `..`, %2e%2e and %2f never leave the named model, and never skip a route check', async () => {
    const get = async (path: string): Promise<RawResponse> => raw(app.url, [request('GET', path)]);
    const servedBy = (r: RawResponse): string | undefined => r.headers['x-served-by']?.split('@')[0];
    // `..` and its encodings are resolved (WHATWG URL) before routing: these are modelswap's own /running.
    for (const p of ['/upstream/m1/../../running', '/upstream/m1/%2e%2e/%2E%2e/running', '/upstream/m1/.%2e/.%2E/running', '/upstream/%2e%2e/running']) {
      const r = await get(p);
      assert.deepEqual([r.status, servedBy(r)], [200, undefined], p);
      assert.match(r.body.toString(), /"running"/, p);
    }
    // Encoded slashes stay inside a segment: the upstream gets the path as sent, and it is still m1.
    const inside = await get('/upstream/m1/x%2f..%2f..%2frunning');
    assert.deepEqual([inside.status, servedBy(inside)], [404, 'm1']);
    // The upstream logs the request when its answer ends; the line reaches us through its stdout, a moment later (a ready server's output is read in batches).
    await until(() => /request: GET \/x%2f\.\.%2f\.\.%2frunning /.test(app.logs.model('m1').history()), 5000, 'the log line of m1 for the request');
    // A model name assembled through %2f..%2f is not a model.
    for (const p of ['/upstream/m1%2f..%2fm2/health', '/upstream/..%2fm1/health', '/upstream/%252e%252e/health', '/upstream/./health', '/upstream//health']) {
      const r = await get(p);
      isError(r, 404, 'model_not_found', /no configured model or alias matches/, p);
    }
    // A model id with a slash is reached through %2f (or the plain slash).
    for (const p of ['/upstream/org%2fmodel/health', '/upstream/org/model/health']) assert.equal(servedBy(await get(p)), 'org/model', p);
  });

  test('control characters in model names: escaped in the answer, never raw in any log', async () => {
    const evil = 'm\u0000\u0007\u001b[2J\r\nFAKE LOG LINE\u009b31m\u2028\u202e';
    const enc = encodeURIComponent(evil);
    const answers = [
      await chat(JSON.stringify({ model: evil })),
      await send(`/v1/chat/completions?model=${enc}`, { body: '{}' }),
      await send('/v1/embeddings', { body: `model=${enc}&input=x`, ct: 'application/x-www-form-urlencoded' }),
      await send('/v1/audio/transcriptions', { body: `--b\r\nContent-Disposition: form-data; name="model"\r\n\r\n${evil}\r\n--b--\r\n`, ct: 'multipart/form-data; boundary=b' }),
      await send(`/api/models/unload/${enc}`, {}),
      await send(`/upstream/${enc}/health`, { method: 'GET' }),
    ];
    for (const a of answers) {
      assert.equal(a.status, 404, a.text);
      assert.doesNotMatch(a.text, /[\u0000-\u001f\u007f-\u009f\u2028\u202e]/, 'no raw control character in the answer');
      assert.match(a.error?.message ?? '', /\\u001b\[2J\\r\\nFAKE LOG LINE\\u009b31m\\u2028\\u202e|%1B%5B2J/);
    }
    const logStream = await send(`/logs/stream/${enc}`, { method: 'GET' });
    isError(logStream, 400, 'bad_request', /unknown log id "m\\u0000\\u0007\\u001b/);
    for (const [where, text] of [['/logs', await (await fetch(`${app.url}/logs`)).text()], ['stdout', app.output.join('')]] as const) {
      assert.match(text, /"url":"\/v1\/chat\/completions\?model=m%00%07%1B/, `${where}: the request was logged`);
      assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u202e]|\r\nFAKE|\nFAKE/, `${where}: no raw control character`);
    }
    await assertIdle(app.url);
  });
});
