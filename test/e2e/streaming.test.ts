/**
 * Streaming and connection behaviour of the proxy on real sockets: SSE leaves
 * chunk by chunk, a client abort reaches the upstream, upstream errors pass
 * through unchanged, client keep-alive works. Raw node:http reads (not an
 * SDK), so any buffering or coalescing in the proxy is visible.
 */
import assert from 'node:assert/strict';
import { Agent, request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { startFromYaml, until } from '../helpers/modelswap.ts';

const msg = [{ role: 'user', content: 'x' }];

type RunningRow = { model: string; state: string; inFlight: number; queued: number; proxy: string };
async function running(url: string): Promise<RunningRow[]> {
  return ((await (await fetch(`${url}/running`, { signal: AbortSignal.timeout(5000) })).json()) as { running: RunningRow[] }).running;
}

/**
 * One `data` event of the client's response: when it came and what it held.
 * Node emits one per HTTP chunk the proxy wrote, so proxy-side coalescing shows.
 */
type Read = { at: number; text: string };

interface Response {
  readonly res: IncomingMessage;
  /** The client socket's local port, read at once: the socket is detached from `res` when the body ends. */
  readonly localPort: number | undefined;
  /** Filled as the body arrives, from the 'response' event on (nothing is buffered client-side first). */
  readonly reads: Read[];
  /** Resolves with `reads` at the end of the body; rejects if the body is cut or the request times out. */
  readonly done: Promise<Read[]>;
}

/** A raw HTTP request, bounded by `timeoutMs` (the socket is destroyed then). */
function send(url: string, o: { body?: string; agent?: Agent; timeoutMs?: number } = {}): { req: ClientRequest; response: Promise<Response> } {
  const u = new URL(url);
  const req = request({
    host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.body === undefined ? 'GET' : 'POST',
    headers: o.body === undefined ? {} : { 'content-type': 'application/json' },
    agent: o.agent, signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
  });
  const response = new Promise<Response>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const reads: Read[] = [];
      // Buffers, not setEncoding: that would merge chunks already queued into one string.
      res.on('data', (b: Buffer) => void reads.push({ at: performance.now(), text: b.toString('utf8') }));
      const done = new Promise<Read[]>((ok, fail) => {
        res.once('end', () => ok(reads));
        res.once('error', fail);
        req.once('error', fail);
      });
      done.catch(() => undefined); // callers that cut the body on purpose need not await it
      resolve({ res, localPort: res.socket.localPort, reads, done });
    });
  });
  req.end(o.body);
  return { req, response };
}

/** Status, headers and body of a finished response. */
async function fetchRaw(url: string, o: Parameters<typeof send>[1] = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; reusedSocket: boolean; localPort: number | undefined }> {
  const { req, response } = send(url, o);
  const { res, localPort, done } = await response;
  const body = (await done).map((r) => r.text).join('');
  return { status: res.statusCode ?? 0, headers: res.headers, body, reusedSocket: req.reusedSocket, localPort };
}

const events = (text: string): number => text.match(/^data: /gm)?.length ?? 0;

test('SSE passes through chunk by chunk: one event per read, spread over the stream, no-buffering headers', async (t) => {
  const tokens = 40;
  const tokenMs = 15;
  const app = await startFromYaml(t, `
models:
  streamer:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens ${tokens} --token-ms ${tokenMs}
`);
  const { response } = send(`${app.url}/v1/chat/completions`, { body: JSON.stringify({ model: 'streamer', stream: true, messages: msg }) });
  const { res, done } = await response;
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/event-stream/);
  assert.equal(res.headers['x-accel-buffering'], 'no');
  const reads = await done;

  // role chunk + one per token + finish chunk + [DONE]
  const body = reads.map((r) => r.text).join('');
  assert.equal(events(body), tokens + 3, body);
  assert.match(body, /data: \[DONE\]\n\n$/);
  assert.match(reads[0]!.text, /"role":"assistant"/, 'the first read is the role chunk');
  const perRead = reads.map((r) => events(r.text));
  assert.ok(perRead.every((n) => n <= 1), `events were coalesced into one read; events per read: ${JSON.stringify(perRead)}`);
  const spread = reads.at(-1)!.at - reads[0]!.at;
  const minSpread = (tokens - 5) * tokenMs * 0.5;
  assert.ok(spread >= minSpread, `reads spread over ${spread.toFixed(0)} ms, expected >= ${minSpread} ms (a buffered response arrives at once)`);
});

test('a client that aborts mid-stream cancels the upstream request promptly and releases its lease', async (t) => {
  const tokens = 200;
  const tokenMs = 25; // the full stream would take 5 s
  const app = await startFromYaml(t, `
models:
  long:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens ${tokens} --token-ms ${tokenMs}
`);
  const { req, response } = send(`${app.url}/v1/chat/completions`, { body: JSON.stringify({ model: 'long', stream: true, messages: msg }) });
  const { reads, done } = await response;
  const started = performance.now();
  const seen = (): number => events(reads.map((r) => r.text).join(''));
  await until(() => seen() >= 5, 5000, '5 events');
  const row = (await running(app.url)).find((r) => r.model === 'long');
  assert.equal(row?.inFlight, 1, 'the stream holds a lease');
  assert.doesNotMatch(app.logs.model('long').history(), /cancel_tasks/);

  req.destroy();
  await assert.rejects(done, 'the cut body is an error on the client side');
  const cancelled = (): boolean => /cancel_tasks: client disconnected/.test(app.logs.model('long').history());
  await until(cancelled, 2000, 'the upstream to log the client disconnect');
  const fullStreamEnds = started + tokens * tokenMs;
  assert.ok(performance.now() < fullStreamEnds - 1000, 'cancelled well before the stream would have ended');
  await until(async () => (await running(app.url)).find((r) => r.model === 'long')?.inFlight === 0, 2000, 'inFlight to return to 0');

  // The model is still up and serves the next request.
  const next = await fetchRaw(`${app.url}/v1/chat/completions`, { body: JSON.stringify({ model: 'long', max_tokens: 2, messages: msg }) });
  assert.equal(next.status, 200);
  assert.equal((await running(app.url)).find((r) => r.model === 'long')?.state, 'ready');
});

test('upstream error statuses and bodies reach the client unchanged (passthrough and inference routes)', async (t) => {
  const app = await startFromYaml(t, `
models:
  errs:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID}
`);
  const cases = [
    { what: 'GET unknown path', via: '/upstream/errs/nope', direct: '/nope', o: {}, status: 404 },
    { what: 'POST unknown path', via: '/upstream/errs/v1/nope', direct: '/v1/nope', o: { body: '{"model":"errs"}' }, status: 404 },
    { what: 'malformed JSON (passthrough)', via: '/upstream/errs/v1/chat/completions', direct: '/v1/chat/completions', o: { body: '{"model": "errs", oops' }, status: 400 },
    { what: 'embeddings without input', via: '/v1/embeddings', direct: '/v1/embeddings', o: { body: '{"model":"errs"}' }, status: 400 },
  ];
  const proxied: Awaited<ReturnType<typeof fetchRaw>>[] = [];
  for (const c of cases) proxied.push(await fetchRaw(`${app.url}${c.via}`, c.o));
  const upstream = (await running(app.url)).find((r) => r.model === 'errs')?.proxy;
  assert.ok(upstream !== undefined, 'the model is running');
  for (const [i, c] of cases.entries()) {
    const got = proxied[i]!;
    const want = await fetchRaw(`${upstream}${c.direct}`, c.o);
    assert.equal(want.status, c.status, `${c.what}: the fake answers ${c.status} directly`);
    assert.equal(got.status, want.status, c.what);
    assert.equal(got.body, want.body, c.what);
    assert.equal(got.headers['content-type'], want.headers['content-type'], c.what);
    assert.equal(got.headers['content-length'], want.headers['content-length'], c.what);
    assert.equal(got.headers['x-served-by'], want.headers['x-served-by'], `${c.what}: the upstream's answer, not modelswap's own`);
  }
});

test('keep-alive to the client: sequential requests (stream, JSON, upstream error) reuse one socket', async (t) => {
  const app = await startFromYaml(t, `
models:
  ka:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 5
`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const requests = [
    { path: '/v1/chat/completions', body: JSON.stringify({ model: 'ka', stream: true, messages: msg }), status: 200 },
    { path: '/v1/chat/completions', body: JSON.stringify({ model: 'ka', messages: msg }), status: 200 },
    { path: '/upstream/ka/nope', body: undefined, status: 404 },
  ];
  const seen: { reused: boolean; localPort: number | undefined }[] = [];
  for (const r of requests) {
    const got = await fetchRaw(`${app.url}${r.path}`, { body: r.body, agent });
    assert.equal(got.status, r.status, r.path);
    assert.notEqual(got.headers.connection, 'close', `${r.path}: no connection: close`);
    seen.push({ reused: got.reusedSocket, localPort: got.localPort });
  }
  assert.deepEqual(seen.map((s) => s.reused), [false, true, true]);
  assert.equal(typeof seen[0]?.localPort, 'number');
  assert.equal(new Set(seen.map((s) => s.localPort)).size, 1, `one socket: ${JSON.stringify(seen)}`);
});

test('generation errors pass through as llama-server sends them: HTTP 500 body, and an error event without [DONE] in a stream', async (t) => {
  const app = await startFromYaml(t, `
models:
  failing:
    cmd: \${fake} --port \${PORT} --model-id \${MODEL_ID} --tokens 10 --error-after-chunks 3
`);
  const plain = await fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'failing', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(plain.status, 500);
  const body = (await plain.json()) as { error: { code: number; message: string; type: string } };
  assert.deepEqual({ code: body.error.code, type: body.error.type }, { code: 500, type: 'server_error' });
  assert.match(body.error.message, /KV cache is full/);

  const streamed = await fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'failing', stream: true, messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(streamed.status, 200);
  const text = await streamed.text();
  const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  assert.equal(events.length, 1 + 3 + 1, 'role chunk, 3 tokens, the error event');
  assert.match(events.at(-1)!, /"error":\{"code":500/);
  assert.ok(!text.includes('[DONE]'), 'an errored stream ends without [DONE]');
  const running = (await (await fetch(`${app.url}/running`)).json()) as { running: Array<{ inFlight: number; state: string }> };
  assert.deepEqual(running.running.map((r) => [r.state, r.inFlight]), [['ready', 0]], 'the server stays up; the lease was released');
});
