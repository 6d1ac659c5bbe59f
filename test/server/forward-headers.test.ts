/**
 * What `forward` (src/server/forward.ts) sends on, with real sockets on
 * 127.0.0.1: headers in both directions are copied from the raw lists
 * (names as sent, repeats kept, hop-by-hop ones dropped), the upstream sees
 * its own Host and the body's real length, and the base URL's path and
 * credentials apply to every request (src/upstream-agent.ts, forwardRequest).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import { forward } from '../../src/server/forward.ts';
import { listen } from '../helpers/http-server.ts';

/** A proxy forwarding every request to `upstream`, with `body` in place of the client's (as a `useModelName` rewrite does). */
function proxyTo(t: TestContext, upstream: string, body?: string): Promise<string> {
  return listen(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void forward({ req, res, upstream, path: req.url ?? '/', body: body === undefined ? Buffer.concat(chunks) : Buffer.from(body), model: 'm' }));
  });
}

interface Seen {
  readonly path: string;
  readonly raw: string[];
  readonly body: string;
}

/** An upstream that records each request and answers with `answer` (a raw header list) and "ok". */
async function recorder(t: TestContext, answer: string[] = ['Content-Type', 'text/plain']): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const url = await listen(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', raw: req.rawHeaders, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, answer);
      res.end('ok');
    });
  });
  return { url, seen };
}

/** A raw request with a raw header list (node:http adds no Host to a list: it is put first); the answer's raw headers and body. */
function send(url: string, path: string, headers: string[], body = ''): Promise<{ status: number; raw: string[]; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', headers: ['Host', u.host, ...headers, 'Content-Length', String(Buffer.byteLength(body))], signal: AbortSignal.timeout(10_000) });
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, raw: res.rawHeaders, body: Buffer.concat(chunks).toString() }));
      res.once('error', reject);
    });
    req.end(body);
  });
}

/** All values of a header in a raw list, in order (names compared case-insensitively). */
function values(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

test('request headers reach the upstream as sent, repeats kept, hop-by-hop ones dropped, with its own Host and the real body length', async (t) => {
  const up = await recorder(t);
  const proxy = await proxyTo(t, up.url, '{"model":"renamed"}');
  const r = await send(proxy, '/v1/chat/completions', [
    'Content-Type', 'application/json', 'X-Trace', 'one', 'X-Trace', 'two', 'Authorization', 'Bearer k',
    'Keep-Alive', 'timeout=77', 'Connection', 'keep-alive', 'TE', 'trailers', 'Proxy-Authorization', 'Basic eA==',
  ], '{"model":"m"}');
  assert.equal(r.status, 200);
  const seen = up.seen[0]!;
  assert.deepEqual(values(seen.raw, 'x-trace'), ['one', 'two'], 'a repeated header arrives twice, in order');
  assert.ok(seen.raw.includes('X-Trace'), 'names keep the case the client sent');
  assert.deepEqual(values(seen.raw, 'authorization'), ['Bearer k']);
  assert.deepEqual(values(seen.raw, 'content-type'), ['application/json']);
  assert.deepEqual(values(seen.raw, 'host'), [new URL(up.url).host], "the upstream's own host, not the proxy's");
  assert.deepEqual(values(seen.raw, 'content-length'), [String(Buffer.byteLength('{"model":"renamed"}'))]);
  assert.equal(seen.body, '{"model":"renamed"}');
  for (const hop of ['keep-alive', 'te', 'proxy-authorization']) assert.deepEqual(values(seen.raw, hop), [], `${hop} is not forwarded`);
  assert.deepEqual(values(seen.raw, 'connection'), ['keep-alive'], "only the proxy's own pooled-connection header");
});

test("the upstream's answer headers reach the client as sent, repeats kept, its hop-by-hop ones dropped", async (t) => {
  const up = await recorder(t, [
    'Content-Type', 'application/json', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Dup', '1', 'X-Dup', '2',
    'Keep-Alive', 'timeout=77', 'Content-Length', '2',
  ]);
  const proxy = await proxyTo(t, up.url);
  const r = await send(proxy, '/v1/chat/completions', ['Content-Type', 'application/json'], '{}');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok');
  assert.deepEqual(values(r.raw, 'set-cookie'), ['a=1', 'b=2']);
  assert.deepEqual(values(r.raw, 'x-dup'), ['1', '2'], 'not joined into one value');
  assert.deepEqual(values(r.raw, 'content-length'), ['2'], "the upstream's length is kept (no chunked re-framing)");
  assert.ok(!values(r.raw, 'keep-alive').includes('timeout=77'), "the upstream's Keep-Alive hint is about its connection to us");
  assert.deepEqual(values(r.raw, 'x-accel-buffering'), [], 'only SSE answers get X-Accel-Buffering');
});

test('an SSE answer carries exactly one X-Accel-Buffering: no, whatever the upstream said', async (t) => {
  const up = await recorder(t, ['Content-Type', 'text/event-stream', 'X-Accel-Buffering', 'yes']);
  const proxy = await proxyTo(t, up.url);
  const r = await send(proxy, '/v1/chat/completions', ['Content-Type', 'application/json'], '{}');
  assert.deepEqual(values(r.raw, 'x-accel-buffering'), ['no']);
  assert.equal(r.body, 'ok');
});

test("the base URL's path prefixes every request, and its credentials are sent unless the client sent its own", async (t) => {
  const up = await recorder(t);
  const base = `${up.url.replace('http://', 'http://user:p%40ss@')}/prefix`;
  const proxy = await proxyTo(t, base);
  await send(proxy, '/v1/models?x=1', []);
  assert.equal(up.seen[0]!.path, '/prefix/v1/models?x=1');
  assert.deepEqual(values(up.seen[0]!.raw, 'authorization'), [`Basic ${Buffer.from('user:p@ss').toString('base64')}`]);
  await send(proxy, '/v1/models', ['Authorization', 'Bearer mine']);
  assert.deepEqual(values(up.seen[1]!.raw, 'authorization'), ['Bearer mine']);
});

test('a base URL node:http cannot use is a 502 naming the reason; nothing is sent', async (t) => {
  const proxy = await proxyTo(t, 'ftp://127.0.0.1:1');
  const r = await send(proxy, '/v1/models', []);
  assert.equal(r.status, 502);
  assert.match(r.body, /upstream for model \\"m\\" failed: ERR_INVALID_PROTOCOL/);
});

test('headers a Connection header names are hop-by-hop too, in both directions', async (t) => {
  const up = await recorder(t, ['Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Hop-Answer', 'X-Hop-Answer', 'u', 'X-Kept', 'k']);
  const proxy = await proxyTo(t, up.url);
  const r = await send(proxy, '/v1/chat/completions', ['Content-Type', 'application/json', 'Connection', 'X-Hop-Request , keep-alive', 'X-Hop-Request', 'c', 'X-Also', 'a'], '{}');
  assert.equal(r.status, 200);
  const seen = up.seen[0]!;
  assert.deepEqual(values(seen.raw, 'x-hop-request'), [], 'named by the client\'s Connection header: not forwarded');
  assert.deepEqual(values(seen.raw, 'x-also'), ['a']);
  assert.deepEqual(values(r.raw, 'x-hop-answer'), [], "named by the upstream's Connection header: not forwarded");
  assert.deepEqual(values(r.raw, 'x-kept'), ['k']);
});
