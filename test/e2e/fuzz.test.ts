/**
 * Property test: 2,000 generated requests (100 batches of 20, 8 at a time)
 * on raw sockets against a real modelswap with real fake upstreams. Random
 * methods, paths (known routes, traversal, garbage, long), content types,
 * bodies (random bytes, JSON with a `model` of every type, invalid UTF-8,
 * multipart, urlencoded, oversized, a 100,000-deep array) and framing (chunked,
 * bogus or duplicate content-length, Expect, HTTP/1.0, absolute-form,
 * pipelining, stalls). Two valid chat requests ride in every batch.
 *
 * Properties: every complete request gets an answer; modelswap never answers
 * 500 and any 5xx it sends is a start/upstream error by code; its own errors
 * are OpenAI-shaped; the valid requests succeed; afterwards nothing is in
 * flight or queued, no handler threw, and the proxy still serves.
 * Reproduce a failure with the seed fast-check prints (FUZZ_SEED=…); run
 * longer with FUZZ_BATCHES=….
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MODEL_ROUTES } from '../../src/server/app.ts';
import { startFromYaml, type Started } from '../helpers/modelswap.ts';
import { assertIdle, bodyOf, finalResponse, raw, type RawResponse } from '../server/raw-http.ts';

const LIMIT = 256 * 1024;
/** FUZZ_BATCHES=1000 for a longer run (20,000 requests). */
const BATCHES = Number(process.env['FUZZ_BATCHES'] ?? 100);
const BATCH = 20;
const PARALLEL = 8;
const B = 'fuzzBOUNDARY';

const YAML = `
maxBodyBytes: ${LIMIT}
routing: { scheduler: { use: fifo } }
groups:
  all: { members: [m1, m2, broken], swap: false, exclusive: false }
models:
  m1:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 3
    aliases: [first]
  m2:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 3
  broken:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --exit-at-start 3
`;

/** What one generated exchange is and what it may legitimately get. */
interface Case {
  readonly kind: string;
  readonly bytes: Buffer;
  /** The request is incomplete on purpose (declared body never sent): no answer is owed. */
  readonly stalls: boolean;
  /** A valid chat request: must get 200. */
  readonly valid: boolean;
  readonly method: string;
}

/** A Case that prints as its first 200 bytes in a fast-check counterexample, not as a byte array. */
function asCase(c: Case): Case {
  return Object.assign(c, { [fc.toStringMethod]: () => `${c.kind} ${JSON.stringify(c.bytes.subarray(0, 200).toString('latin1'))}` });
}

// ------------------------------------------------------------------ generators

const modelValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('m1', 'm2', 'first', 'broken', '', 'M1', 'm1 ', 'm1\u0000', 'm1/../m2', '../m1') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** A model value as text for a query or form field (String() throws on some generated objects, e.g. { toString: 1 }). */
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

const jsonText = fc
  .record({ model: modelValue, stream: fc.boolean(), messages: fc.jsonValue({ maxDepth: 2 }), max_tokens: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] })
  .map((o) => JSON.stringify(o));

const urlEncoded = fc.tuple(modelValue, fc.string({ maxLength: 20 })).map(([m, x]) => `${m === undefined ? '' : `model=${encodeURIComponent(asText(m).toWellFormed())}&`}x=${encodeURIComponent(x)}`);

const multipart = fc.tuple(fc.option(modelValue), fc.uint8Array({ maxLength: 200 }), fc.boolean()).map(([m, file, closed]) => Buffer.concat([
  Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`), Buffer.from(file),
  Buffer.from(m === null || m === undefined ? '' : `\r\n--${B}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${typeof m === 'string' ? m : JSON.stringify(m)}`),
  Buffer.from(closed ? `\r\n--${B}--\r\n` : '\r\n'),
]));

/** JSON bodies broken on purpose: cut short, or one byte replaced (often making it invalid UTF-8). */
const brokenJson = fc.tuple(jsonText, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([t, at, byte, cut]) => {
  const b = Buffer.from(t);
  const i = at % Math.max(1, b.length);
  if (cut) return b.subarray(0, i);
  const out = Buffer.from(b);
  out[i] = byte;
  return out;
});

const body: fc.Arbitrary<{ kind: string; body: Buffer; ct: string | undefined }> = fc.oneof(
  { weight: 6, arbitrary: jsonText.map((t) => ({ kind: 'json', body: Buffer.from(t), ct: 'application/json' })) },
  { weight: 3, arbitrary: brokenJson.map((b) => ({ kind: 'broken-json', body: b, ct: 'application/json' })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((u) => ({ kind: 'random-bytes', body: Buffer.from(u), ct: undefined })) },
  { weight: 2, arbitrary: multipart.map((b) => ({ kind: 'multipart', body: b, ct: `multipart/form-data; boundary=${B}` })) },
  { weight: 2, arbitrary: urlEncoded.map((t) => ({ kind: 'urlencoded', body: Buffer.from(t), ct: 'application/x-www-form-urlencoded' })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty', body: Buffer.alloc(0), ct: 'application/json' }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'oversized', body: Buffer.alloc(LIMIT + 1, 0x61), ct: 'application/json' }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'deep-model', body: Buffer.from(`{"model":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), ct: 'application/json' }) },
);

const contentType = (natural: string | undefined): fc.Arbitrary<string | undefined> => fc.oneof(
  { weight: 6, arbitrary: fc.constant(natural) },
  { weight: 4, arbitrary: fc.constantFrom(undefined, '', 'text/plain', 'application/json; charset=latin1', 'APPLICATION/JSON', 'multipart/form-data', `multipart/form-data; boundary=${B}`, 'application/x-www-form-urlencoded', 'application/octet-stream', 'json', ';;;') },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,40}$/) },
);

const KNOWN = [...MODEL_ROUTES, '/v1/models', '/models', '/running', '/health', '/logs', '/', '/upstream', '/upstream/', '/upstream/m1', '/upstream/m1/health',
  '/upstream/m2/v1/chat/completions', '/upstream/m1/completion', '/upstream/first/v1/models', '/upstream/broken/health', '/api/models/unload/zzz', '/logs/stream/nope',
  '/props', '/v1/audio/voices', '/sdapi/v1/loras', '/wol-health', '/api/tags', '/api/ps', '/api/models/load/first', '/api/models/load/broken', '/api/models/load/zzz'];
const TRAVERSAL = ['/upstream/m1/../../running', '/upstream/m1/%2e%2e/%2e%2e/health', '/upstream/m1%2f..%2fm2/x', '/upstream/%2e%2e/%2e%2e/etc/passwd', '/../../etc/passwd',
  '/v1/../running', '/upstream/m1/..%2f..%2f..%2fetc%2fpasswd', '//upstream//m1//health', '/%2e%2e/%2e%2e/', '/upstream/m1/%00', '/upstream/%ff/x', '/upstream/%E0/x',
  '/api/models/unload/%E0%A4', '/upstream/m1/.%2e/.%2e/running', '/upstream/..%2f..%2fm1/health'];

const path: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN) },
  { weight: 3, arbitrary: fc.constantFrom(...TRAVERSAL) },
  { weight: 2, arbitrary: fc.stringMatching(/^\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,60}$/) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...KNOWN), modelValue).map(([p, m]) => `${p}?model=${encodeURIComponent(asText(m).toWellFormed())}&stream=true`) },
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 6000 }).map((n) => `/${'a/'.repeat(n)}`) },
);

const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,8}$/) },
);

type Framing = 'length' | 'chunked' | 'no-length' | 'short-length' | 'long-length' | 'two-lengths' | 'bad-length' | 'length+chunked' | 'expect' | 'http10' | 'absolute' | 'pipelined' | 'bad-header';
const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Framing>('length') },
  { weight: 3, arbitrary: fc.constant<Framing>('chunked') },
  { weight: 1, arbitrary: fc.constantFrom<Framing>('no-length', 'short-length', 'long-length', 'two-lengths', 'bad-length', 'length+chunked', 'expect', 'http10', 'absolute', 'pipelined', 'bad-header') },
);

const extraHeaders = fc.array(fc.constantFrom('Accept: text/plain', 'Accept: text/html', 'Authorization: Bearer nope', 'X-Api-Key: k', 'Cookie: a=b', 'Upgrade: websocket',
  'Accept-Encoding: gzip', 'Origin: http://evil.example', 'X-Forwarded-For: 1.2.3.4', 'Transfer-Encoding: identity'), { maxLength: 3 });

function build(m: string, p: string, ct: string | undefined, b: Buffer, f: Framing, extra: readonly string[]): { bytes: Buffer; stalls: boolean } {
  const target = f === 'absolute' ? `http://127.0.0.1:1${p}` : p;
  const lines = [`${m} ${target} ${f === 'http10' ? 'HTTP/1.0' : 'HTTP/1.1'}`, 'Host: 127.0.0.1', 'Connection: close', ...extra];
  if (ct !== undefined) lines.push(`Content-Type: ${ct}`);
  let payload = b;
  let stalls = false;
  switch (f) {
    case 'length': case 'http10': case 'absolute': case 'pipelined': lines.push(`Content-Length: ${b.length}`); break;
    case 'expect': lines.push(`Content-Length: ${b.length}`, 'Expect: 100-continue'); break;
    case 'chunked': {
      lines.push('Transfer-Encoding: chunked');
      const parts: Buffer[] = [];
      for (let at = 0; at < b.length; at += 97) {
        const c = b.subarray(at, at + 97);
        parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
      }
      payload = Buffer.concat([...parts, Buffer.from('0\r\n\r\n')]);
      break;
    }
    case 'no-length': break;
    case 'short-length': lines.push(`Content-Length: ${Math.floor(b.length / 2)}`); break;
    case 'long-length': lines.push(`Content-Length: ${b.length + 10}`); stalls = true; break;
    case 'two-lengths': lines.push(`Content-Length: ${b.length}`, `Content-Length: ${b.length + 1}`); break;
    case 'bad-length': lines.push(`Content-Length: ${b.length}x`); break;
    case 'length+chunked': lines.push(`Content-Length: ${b.length}`, 'Transfer-Encoding: chunked'); break;
    case 'bad-header': lines.push(`Content-Length: ${b.length}`, 'X-Bad : space before colon'); break;
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const tail = f === 'pipelined' ? Buffer.from('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n') : Buffer.alloc(0);
  return { bytes: Buffer.concat([head, payload, tail]), stalls };
}

const fuzzCase: fc.Arbitrary<Case> = fc.tuple(method, path, body, framing, extraHeaders).chain(([m, p, b, f, extra]) =>
  contentType(b.ct).map((ct) => asCase({ kind: `${b.kind}/${f}`, valid: false, method: m, ...build(m, p, ct, b.body, f, extra) })));

const validCase: fc.Arbitrary<Case> = fc.tuple(fc.constantFrom('m1', 'm2', 'first'), fc.boolean()).map(([model, stream]) => {
  const b = Buffer.from(JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }));
  return asCase({ kind: 'valid', valid: true, method: 'POST', ...build('POST', '/v1/chat/completions', 'application/json', b, 'length', []) });
});

const batch = fc.tuple(fc.array(fuzzCase, { minLength: BATCH - 2, maxLength: BATCH - 2 }), validCase, validCase, fc.nat(), fc.nat())
  .map(([cases, v1, v2, i, j]) => {
    const out = [...cases];
    out.splice(i % (out.length + 1), 0, v1);
    out.splice(j % (out.length + 1), 0, v2);
    return out;
  });

// ------------------------------------------------------------------ checks

/** modelswap's own 5xx codes that mean "the upstream or its start failed", never a handler bug. */
const LEGIT_5XX = new Set(['upstream_start_failed', 'upstream_error', 'upstream_not_ready', 'model_unloaded', 'shutting_down']);

function check(c: Case, r: RawResponse, stats: Map<string, number>): void {
  const f = finalResponse(r);
  const what = `${c.kind}: ${c.bytes.subarray(0, 300).toString('latin1')}\n-> ${r.raw.subarray(0, 400).toString('latin1')}`;
  stats.set(`status ${f.status}`, (stats.get(`status ${f.status}`) ?? 0) + 1);
  if (f.status === 0) {
    assert.ok(c.stalls, `no answer to a complete request: ${what}`);
    return;
  }
  const fromUpstream = f.headers['x-served-by'] !== undefined;
  const text = bodyOf(f).toString('utf8');
  if (c.valid) {
    assert.equal(f.status, 200, what);
    assert.match(text, /chat\.completion/, what);
    return;
  }
  if (fromUpstream || f.status < 400 || c.method === 'HEAD') return;
  // modelswap's own error: OpenAI-shaped (Node's bare parser answers excepted), never a 500, 5xx only for upstream trouble.
  assert.notEqual(f.status, 500, what);
  if (text === '' && [400, 408, 413, 431].includes(f.status)) return;
  let e: { code: string; type: string };
  try {
    e = (JSON.parse(text) as { error: { code: string; type: string } }).error;
  } catch {
    assert.fail(`not an OpenAI error body: ${what}`);
  }
  assert.equal(typeof e.code, 'string', what);
  if (f.status >= 500) assert.ok(LEGIT_5XX.has(e.code), `5xx with code ${e.code}: ${what}`);
  stats.set(`code ${e.code}`, (stats.get(`code ${e.code}`) ?? 0) + 1);
}

async function runBatch(app: Started, cases: readonly Case[], stats: Map<string, number>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const r = await raw(app.url, [c.bytes], c.stalls ? 300 : 15_000);
      check(c, r, stats);
      stats.set(c.kind.split('/')[0]!, (stats.get(c.kind.split('/')[0]!) ?? 0) + 1);
      stats.set(`framing ${c.kind.split('/')[1] ?? '-'}`, (stats.get(`framing ${c.kind.split('/')[1] ?? '-'}`) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

test(`fuzz: ${BATCHES * BATCH} generated requests never crash the proxy, never get a handler 500, and leak nothing`, { timeout: 120_000 }, async (t) => {
  const app = await startFromYaml(t, YAML);
  const stats = new Map<string, number>();
  const started = performance.now();
  const seed = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
  await fc.assert(fc.asyncProperty(batch, (cases) => runBatch(app, cases, stats)), { numRuns: BATCHES, endOnFailure: true, ...(seed === undefined ? {} : { seed }) });
  const ms = performance.now() - started;

  await assertIdle(app.url);
  assert.equal(await (await fetch(`${app.url}/health`)).text(), 'OK', 'still serving');
  assert.doesNotMatch(app.logs.proxy.history(), /unexpected error handling request/, 'no handler threw');
  const total = [...stats].filter(([k]) => k.startsWith('status ')).reduce((a, [, n]) => a + n, 0);
  assert.equal(total, BATCHES * BATCH);
  t.diagnostic(`${total} requests in ${(ms / 1000).toFixed(1)} s`);
  t.diagnostic([...stats].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k}: ${n}`).join(', '));
});
