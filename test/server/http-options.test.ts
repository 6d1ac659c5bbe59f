/**
 * Server options and client errors (src/server/http-options.ts,
 * client-errors.ts) on real sockets. The real app (router, upstreams) runs
 * behind a second server built with short timeouts, so a "1 s requestTimeout"
 * is tested in about a second; one test checks that src/main.ts uses the
 * same options.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CONNECTIONS_CHECK_INTERVAL_MS, HEADERS_TIMEOUT_MS, httpServerOptions, httpTimeouts, MIN_REQUEST_TIMEOUT_MS, setupHttpServer,
  type HttpTimeouts,
} from '../../src/server/http-options.ts';
import { startFromYaml, until, type Started } from '../helpers/modelswap.ts';
import { assertIdle, errorOf, openRaw, raw, request } from './raw-http.ts';

const SHORT: HttpTimeouts = { headersTimeoutMs: 500, requestTimeoutMs: 1000, checkIntervalMs: 100 };

/** The app of a started modelswap behind a server with `timeouts`. */
async function behind(t: TestContext, app: Started, timeouts: HttpTimeouts = SHORT): Promise<string> {
  const listener = app.server.listeners('request')[0] as RequestListener;
  const server = createServer(httpServerOptions(1 << 20, timeouts), listener);
  setupHttpServer(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const chat = (model: string, stream: boolean): string => JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'x' }] });

test('timeouts: 30 s for headers; the whole request 300 s, or longer when maxBodyBytes needs it at 200 KiB/s; checked every second', () => {
  assert.deepEqual(httpTimeouts(1024), { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: MIN_REQUEST_TIMEOUT_MS, checkIntervalMs: CONNECTIONS_CHECK_INTERVAL_MS });
  assert.equal(httpTimeouts(64 * 1024 * 1024).requestTimeoutMs, 328_000);
  const o = httpServerOptions(64 * 1024 * 1024);
  assert.deepEqual(
    { h: o.headersTimeout, r: o.requestTimeout, c: o.connectionsCheckingInterval, k: o.keepAliveTimeout },
    { h: 30_000, r: 328_000, c: 1000, k: 65_000 },
  );
  assert.equal(httpServerOptions(1, { headersTimeoutMs: 5000, requestTimeoutMs: 1000 }).headersTimeout, 1000, 'headers <= request, as Node requires');
});

test('src/main.ts builds its server with httpServerOptions and setupHttpServer', async (t) => {
  const app = await startFromYaml(t, 'maxBodyBytes: 67108864\nmodels:\n  m:\n    cmd: ${fake} --port ${PORT}\n');
  assert.equal(app.server.headersTimeout, HEADERS_TIMEOUT_MS);
  assert.equal(app.server.requestTimeout, 328_000);
  assert.equal(app.server.listenerCount('clientError'), 1);
  const r = await raw(app.url, ['NOT HTTP AT ALL\r\n\r\n']);
  assert.equal(r.status, 400);
  assert.equal(errorOf(r).code, 'bad_request');
});

test('a 3 s answer (1.5 s model load, then a 1.5 s stream) passes a 1 s requestTimeout: it bounds receiving the request only', async (t) => {
  const app = await startFromYaml(t, `
models:
  slow:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --load-ms 1500 --tokens 15 --token-ms 100
`);
  const url = await behind(t, app);
  const r = await raw(url, [request('POST', '/v1/chat/completions', { headers: { 'content-type': 'application/json' }, body: chat('slow', true) })]);
  assert.equal(r.status, 200, r.raw.toString());
  assert.match(r.body.toString(), /data: \[DONE\]/);
  assert.ok(r.ms >= 2900, `took ${r.ms.toFixed(0)} ms; expected the load and the stream to outlast the 1 s timeout`);
  await assertIdle(url);
});

test('a body sent slowly but within the requestTimeout passes', async (t) => {
  const app = await startFromYaml(t, 'models:\n  m:\n    cmd: ${fake} --port ${PORT} --model-id ${MODEL_ID} --tokens 2\n');
  const url = await behind(t, app);
  const body = Buffer.from(chat('m', false));
  const head = request('POST', '/v1/chat/completions', { headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });
  const parts = [0, 1, 2, 3, 4].map((i) => body.subarray(Math.floor((i * body.length) / 5), Math.floor(((i + 1) * body.length) / 5)));
  const r = await raw(url, [head, ...parts.flatMap((p) => [{ pauseMs: 60 }, p])]);
  assert.equal(r.status, 200, r.raw.toString());
});

test('headers, then a stalled body: 408 in the OpenAI shape at the requestTimeout, connection closed, nothing left in flight', async (t) => {
  const app = await startFromYaml(t, 'models:\n  m:\n    cmd: ${fake} --port ${PORT} --model-id ${MODEL_ID}\n');
  const url = await behind(t, app);
  const r = await raw(url, [
    'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":"m",',
  ], 5000);
  assert.equal(r.status, 408, r.raw.toString());
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['connection'], 'close');
  const e = errorOf(r);
  assert.equal(e.code, 'request_timeout');
  assert.match(e.message, /within 1 s/);
  assert.ok(r.ms >= 950 && r.ms < 3000, `cut after ${r.ms.toFixed(0)} ms; expected about 1000 ms`);
  await assertIdle(url);
  assert.deepEqual((await fetch(`${url}/running`).then((x) => x.json()) as { running: unknown[] }).running, [], 'no model was started');
});

test('headers that stall: 408 at the headersTimeout', async (t) => {
  const app = await startFromYaml(t, 'models:\n  m:\n    cmd: ${fake} --port ${PORT}\n');
  const url = await behind(t, app);
  const r = await raw(url, ['GET /running HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '], 5000);
  assert.equal(r.status, 408);
  assert.ok(r.ms >= 450 && r.ms < 2500, `cut after ${r.ms.toFixed(0)} ms; expected about 500 ms`);
});

test('requests Node cannot parse: 400 (or 431, 413) with an OpenAI error body, then the connection closes', async (t) => {
  const app = await startFromYaml(t, 'models:\n  m:\n    cmd: ${fake} --port ${PORT}\n');
  const url = await behind(t, app);
  const cases: Array<[string, string | Buffer, number, string]> = [
    ['not HTTP', 'HELLO THERE\r\n\r\n', 400, 'bad_request'],
    ['a header line without a colon', 'GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n', 400, 'bad_request'],
    ['a control character in a header value', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x1bb\r\n\r\n', 400, 'bad_request'],
    ['a control character in the path', 'GET /v1/\x07 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request'],
    ['two different content-lengths', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}', 400, 'bad_request'],
    ['a non-numeric content-length', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n{}', 400, 'bad_request'],
    ['content-length and chunked together', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', 400, 'bad_request'],
    ['a bad chunk size', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'bad_request'],
    ['no Host header', 'GET /health HTTP/1.1\r\n\r\n', 400, 'bad_request'],
    ['20 KB of headers', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'request_header_fields_too_large'],
  ];
  for (const [what, bytes, status, code] of cases) {
    const r = await raw(url, [bytes], 5000);
    assert.equal(r.status, status, `${what}: ${r.raw.toString().slice(0, 300)}`);
    if (what === 'no Host header') continue; // Node answers this one itself, after parsing, without 'clientError'
    assert.equal(r.headers['content-type'], 'application/json', what);
    assert.equal(errorOf(r).code, code, what);
  }
  await assertIdle(url);
});

test('a parse error on a connection whose response is streaming cuts it, never writes an error into the stream', async (t) => {
  const app = await startFromYaml(t, 'models:\n  s:\n    cmd: ${fake} --port ${PORT} --model-id ${MODEL_ID} --tokens 40 --token-ms 25\n');
  const url = await behind(t, app, { ...SHORT, requestTimeoutMs: 10_000, headersTimeoutMs: 10_000 });
  const { socket, received } = await openRaw(url);
  const body = chat('s', true);
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  await until(() => received().includes('data: '), 5000, 'the stream to start');
  const closed = once(socket, 'close');
  socket.write('JUNK JUNK\r\n\r\n'); // a "pipelined request" Node cannot parse
  await closed;
  const text = received().toString('latin1');
  assert.equal(text.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, `one response only:\n${text.slice(0, 2000)}`);
  assert.doesNotMatch(text, /bad_request/);
  await sleep(50);
  await assertIdle(url);
});
